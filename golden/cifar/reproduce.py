"""How closely a float64 re-run reproduces a stored CIFAR golden.

On the machine that wrote it, exactly: the gradients come out of torch bit for bit,
and the update is the same IEEE arithmetic. On another machine the network's float64
sums may run in another order, and the dynamics carry those roundings along. The
golden stores the measured drift of a run whose gradients and parameters take
rounding-sized errors every step; a re-run may be off by C times that, plus the
rounding of the fingerprint's own sums. A difference beyond it means other data,
another network, or a broken formula path, never rounding.
"""
import numpy as np

from optgold.golden.dtypes import C, UNIT_ROUNDOFF

U64 = UNIT_ROUNDOFF["float64"]


def fingerprint_bound(drift, sizes, max_abs):
    """(tensors, 1) bound on every fingerprint field at one step: each field moves by at most
    sqrt(n) times the largest element change (fingerprint.py), and its sums round at u * sqrt(n) * max|p|."""
    root = np.sqrt(np.asarray(sizes, dtype=np.float64))[:, None]
    return C * root * (drift + U64 * np.asarray(max_abs)[:, None])


def first_mismatch(observed, expected, drift, sizes):
    """(step, tensor, field, difference, bound) of the first fingerprint outside its bound, or None.

    ``observed`` and ``expected`` are (steps, tensors, fields) over the same steps; ``drift`` per step.
    """
    for t in range(len(observed)):
        bound = fingerprint_bound(drift[t], sizes, expected[t][:, 1])
        outside = ~(np.abs(observed[t] - expected[t]) <= bound)
        if outside.any():
            k, f = (int(i) for i in np.argwhere(outside)[0])
            return t, k, f, float(abs(observed[t][k, f] - expected[t][k, f])), float(bound[k, 0])
    return None


def final_bound(drift_last, final_params):
    """The stored final parameters are float32: their own rounding, plus the float64 reproduction bound."""
    magnitude = np.abs(np.asarray(final_params, dtype=np.float64))
    return C * (drift_last + U64 * magnitude) + UNIT_ROUNDOFF["float32"] * magnitude
