"""How far a coarser inner precision may carry one step: Muon's Newton-Schulz in bfloat16.

torch.optim.Muon orthogonalizes in bfloat16 whatever the parameter's dtype. A legitimate
implementation may order that computation otherwise (X^T X on the other side, the
polynomial as a X + b A X + c A A X, float32 accumulation), and each order rounds
differently. How much one bfloat16 rounding moves the result is the iteration's own
amplification: ~a = 3.4 per step along a small singular value, less where the singular
values have converged. So it is measured, on each step's own input M_t: SAMPLES float64
walks of the iteration in which every stored value (the input, the norm, each product,
scaled term and sum) takes a random relative error of up to u = 2^-8, and the spread is
the largest entry of |O_sample - O_exact| over them. The step's update then carries

    slack = adjusted_lr * spread            (each element; optgold.local adds C times it)

Measured on the muon grid (1,000 steps' inputs per case): torch's own distance from the
exact iteration is at most 0.94 of the spread, and an independent order (tests/
test_muon_precision.py) at most 1.9; as u * amplification, the spread is 2 to 300 units
of 2^-8 * max |O_t| (median ~10).
"""
import numpy as np

SAMPLES = 16
SEED = 0


def newton_schulz_spread(matrix, ns_coefficients, ns_steps, eps, unit, rng, samples=SAMPLES):
    """The largest |O - O_exact| over ``samples`` walks of Newton-Schulz on ``matrix`` whose every
    stored value carries a random relative error of up to ``unit``."""
    def rounded(v):
        return v * (1 + rng.uniform(-unit, unit, v.shape))

    a, b, c = ns_coefficients
    exact = _newton_schulz(np.asarray(matrix, dtype=float)[None], a, b, c, ns_steps, eps, lambda v: v)
    walked = _newton_schulz(np.broadcast_to(np.asarray(matrix, dtype=float), (samples,) + np.shape(matrix)),
                            a, b, c, ns_steps, eps, rounded)
    return float(np.abs(walked - exact).max())


def _newton_schulz(x, a, b, c, ns_steps, eps, rnd):
    """A batch of Newton-Schulz iterations in torch's order, each stored value through ``rnd``."""
    x = rnd(x)
    tall = x.shape[1] > x.shape[2]
    if tall:
        x = x.transpose(0, 2, 1)
    norm = rnd(np.sqrt((x * x).sum(axis=(1, 2), keepdims=True)))
    x = rnd(x / np.maximum(norm, eps))
    for _ in range(ns_steps):
        gram = rnd(x @ x.transpose(0, 2, 1))
        poly = rnd(rnd(b * gram) + rnd(c * rnd(gram @ gram)))
        x = rnd(rnd(a * x) + rnd(poly @ x))
    return x.transpose(0, 2, 1) if tall else x


def muon_update_slack(module, hp, shape, grad, buf, unit, rng):
    """adjusted_lr * the spread of Newton-Schulz on this step's M_t (from ``grad`` and the buffer
    ``buf`` before the step, not changed): what bfloat16 may move each element of the update by."""
    update = module.newton_schulz_input(grad, list(buf), hp["momentum"], hp["nesterov"])
    rows, cols = shape
    matrix = np.reshape(update, (rows, cols))
    spread = newton_schulz_spread(matrix, hp["ns_coefficients"], hp["ns_steps"], hp["eps"], unit, rng)
    return abs(module.adjusted_lr(hp["lr"], hp["adjust_lr_fn"], shape)) * spread
