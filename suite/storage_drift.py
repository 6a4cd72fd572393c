"""The whole low-precision trajectory, within the drift that storage rounding is measured to cause.

The one-step judgement (optgold.local) allows each step a few roundings of its own. A bias
of less than that per step, one that always goes the same way (truncation instead of
rounding, a compensation that leaks, stochastic rounding that favours one side), passes it
at every step and still carries the run away. So in replay the parameters are also judged
as a whole against G, the reference walked exactly from the rounded start on the rounded
gradients the implementation was given, within

    C * (D_t + mean D_t + R_t + u * |G_t|) + C * floor

where D_t is the running maximum of |S_t - G_t| for S, the same walk with every store
rounded to nearest (even) in the dtype (its drift, measured for this case), and R_t is
what the declared rounding adds on top:

    nearest      S rounds the parameters and the state; R = 0
    stochastic   S rounds the state only; R_t = sqrt(sum_{s<=t} (ulp(G_s) / 2)^2), the spread of
                 independent unbiased roundings, which grows as sqrt(t) where a bias grows as t
    kahan        S rounds the state only; the compensated value (param + compensation) is what is
                 judged, and R_t = u * sum_{s<=t} (|G_s - G_{s-1}| + its mean), the rounding of the
                 compensated additions

A round-to-nearest implementation that stagnates where S stagnates stays within D; one that
truncates moves an ulp toward zero wherever S does not. State is judged every step by the
one-step judgement; its drift enters the parameters through their updates.
"""
import random

import numpy as np

from optgold import compare
from optgold.golden.dtypes import C
from optgold.local import emulated
from optgold.reference import storage
from optgold.representable import ulp

ROUNDINGS = ("nearest", "stochastic", "kahan")
SEEDS = (1, 2)


def perturbed(name, unit, seed):
    """A store that rounds each number after a random relative error of up to ``unit``: the
    intermediate rounding an implementation computing in the storage format makes before it
    stores (torch's bfloat16 ops round every temporary)."""
    nearest, draw = storage.rounder(name), random.Random(seed).uniform
    return lambda x: nearest(x * (1 + unit * draw(-1.0, 1.0)))


def drift(case, dtype, rounding, unit, golden):
    """The running maximum of |S_t - G_t|, elementwise, over the stored walks S: to nearest at every
    store, and SEEDS more with a rounding error of up to u before each state store."""
    nearest = storage.rounder(dtype) if rounding == "nearest" else False  # the parameters' store
    walks = [emulated(case, dtype, store=storage.rounder(dtype), store_params=nearest)]
    walks += [emulated(case, dtype, store=perturbed(dtype, unit, seed), store_params=nearest) for seed in SEEDS]
    return np.maximum.accumulate(np.max([np.abs(w.params - golden.params) for w in walks], axis=0), axis=0)


def bound(case, dtype, rounding, unit, floor):
    """(golden G, (steps + 1, n) bound) for a run of ``case`` in ``dtype`` with that rounding."""
    golden = emulated(case, dtype)
    measured = drift(case, dtype, rounding, unit, golden)
    extra = np.zeros_like(measured)
    g = golden.params
    if rounding == "stochastic":
        extra = np.sqrt(np.cumsum((ulp(g, dtype) / 2) ** 2, axis=0))
    elif rounding == "kahan":
        moved = np.abs(np.diff(g, axis=0))
        extra = np.concatenate([np.zeros((1, g.shape[1])),
                                unit * np.cumsum(moved + moved.mean(axis=1, keepdims=True), axis=0)])
    return golden, C * (measured + measured.mean(axis=1, keepdims=True) + extra + unit * np.abs(g) + floor)


def judge(observed, case, dtype, rounding, unit, floor, curves=None):
    """(first Divergence or None, |error| / bound used) of the observed parameter rows (the
    compensated values with Kahan summation) against the whole-trajectory bound; ``curves``: a list
    that receives its compare.curve."""
    golden, limit = bound(case, dtype, rounding, unit, floor)
    observed = np.asarray(observed)
    name = "params (whole trajectory, against the golden walked on the rounded gradients)" \
        if rounding != "kahan" else "params + compensation (whole trajectory, against the golden walked on the " \
                                    "rounded gradients)"
    found = compare.first_divergence(name, observed, golden.params, limit, case.shapes)
    if curves is not None:
        curves.append(compare.curve("params (whole trajectory)", observed, golden.params, limit, case.shapes))
    return found, compare.tolerance_used(observed, golden.params, limit)
