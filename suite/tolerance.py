"""The tolerance model: how far a correct implementation may be from the golden.

Replay. Rounding-error analysis of one step p_{t+1} = p_t - u_t: the update u_t is
computed to within a few roundings of the quantities that make it up, and the
addition rounds once more at |p_{t+1}|. Errors made at each step add up, so a
correct run stays within

    bound_t = C * unit_roundoff * (|p_0| + sum_{s<t} (|p_{s+1}| + |u_s| + mean |u_s|))

elementwise. mean |u_s| (over all elements) stands for the size of the terms inside
an update: an element whose update nearly cancels (m ~ 0 in Adam) still carries the
rounding of those terms. The same sum over |state| bounds the state buffers. The
golden's own certified error (float64 against 50-digit mpmath) is added.

Free run. Errors also move the gradients, which the suite computes itself (by
autograd, a sum of up to n terms per element), and the problem's dynamics damp or
amplify them. Each golden stores, per dtype, the measured drift of a run whose
parameters and gradients take random errors of that size every step; the bound
adds C times its running maximum. State bounds grow by the same amplification (at
least sqrt(n), for the gradient sums) and add C times the measured drift of that
state in the same perturbed run. Where C * drift exceeds HORIZON_FRACTION of the
parameters' size, rounding alone could carry a correct run anywhere (a chaotic
case), so judging stops at that horizon; replay mode still judges every step.

C is calibrated: `python -m optgold.devtools.calibrate` prints how much of the bound
torch's forloop, foreach and fused paths use, and the mutants it leaves caught.
"""
import numpy as np

from optgold.golden.dtypes import C, UNIT_ROUNDOFF

HORIZON_FRACTION = 1e-3


def _linear_sum(case, dtype):
    """u * sum_{s<=t} |p_s|_inf: the drift rounding would reach if nothing amplified it."""
    return UNIT_ROUNDOFF[dtype] * np.cumsum(np.abs(case.params).max(axis=1))


def param_bound(case, dtype, mode):
    """(steps + 1, n) elementwise tolerance for the parameters."""
    p = case.params
    update = np.abs(np.diff(p, axis=0))
    per_step = np.abs(p[1:]) + update + update.mean(axis=1, keepdims=True)
    accumulated = np.concatenate([np.abs(p[:1]), np.abs(p[:1]) + np.cumsum(per_step, axis=0)])
    bound = C * UNIT_ROUNDOFF[dtype] * accumulated + 2 * case.golden_error["replay"]
    if mode == "free":
        bound = bound + C * np.maximum.accumulate(case.drift[dtype])[:, None]
    return bound


def state_bound(case, name, dtype, mode):
    """(steps, n) elementwise tolerance for one state buffer (rows are steps 1..steps)."""
    s = np.abs(case.state[name])
    bound = C * UNIT_ROUNDOFF[dtype] * np.cumsum(s + s.mean(axis=1, keepdims=True), axis=0)
    if mode == "free":
        # free-run gradients are the suite's own sums of n terms, rounded up to sqrt(n) times more
        amplification = np.maximum(np.sqrt(case.size), case.drift[dtype] / _linear_sum(case, dtype))
        bound = bound * np.maximum.accumulate(amplification)[1:, None]
        bound = bound + C * np.maximum.accumulate(case.state_drift[dtype][name])[:, None]
    return bound


def free_run_horizon(case, dtype):
    """The last step a free run is judged at (case.steps when the whole run is)."""
    scale = np.abs(case.params).max(axis=1)
    beyond = np.nonzero(C * case.drift[dtype] > HORIZON_FRACTION * scale)[0]
    return int(beyond[0]) - 1 if beyond.size else case.steps
