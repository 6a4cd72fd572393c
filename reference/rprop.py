"""Rprop (Riedmiller & Braun, 1993), as torch.optim.Rprop documents it (the iRprop- form).

    g_t    = -grad if maximize else grad
    for each element i:
        if g_prev * g_t > 0:   eta_t = min(eta_{t-1} * etaplus, step_max)
        elif g_prev * g_t < 0: eta_t = max(eta_{t-1} * etaminus, step_min);  g_t = 0
        else:                  eta_t = eta_{t-1}
        eta_t  = clamp(eta_t, step_min, step_max)          (torch: in every branch)
    p_t    = p - eta_t * sign(g_t)
    g_prev = g_t

with g_prev = 0 and eta_0 = lr (state "prev" and "step_size"); (etaminus, etaplus) =
etas, (step_min, step_max) = step_sizes.

Torch differs from the 1993 paper, which reverts the previous step on a sign change
(weight backtracking): torch skips the step and zeroes g_prev instead (Igel & Huesken's
iRprop-). Plain Rprop without backtracking, which steps anyway, is the rprop_minus
variant. Torch clamps the step size to [step_min, step_max] in every branch, so an lr
outside that range is clamped at the first step.

Branches depend on the sign of g_prev * g_t only. Given the same gradients (replay), a
float32 implementation takes the same branches as this reference unless a product
underflows. In a free run its own gradients can put an element near zero on the other
side: golden/grid/rprop.py says how its cases avoid that.
"""
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:Rprop", complex=True)
DEFAULTS = dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0), maximize=False)

VARIANTS = {
    "torch": "torch.optim.Rprop",
    "rprop_minus": "Rprop- (no backtracking, no zeroing): on a sign change the step is still taken and "
    "g_prev keeps g_t",
    "prev_kept_on_flip": "on a sign change the step is skipped but g_prev keeps g_t instead of 0, so the "
    "next step compares against it",
    "maximize_prev_unflipped": "known bug: with maximize, g_prev stores the unnegated gradient, so the sign "
    "test sees -g_prev * g_t and the branches swap",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "prev": [zero] * size, "step_size": [zero + hp["lr"]] * size}


def step(param, grad, state, *, lr, etas, step_sizes, maximize, variant="torch"):
    etaminus, etaplus = etas
    step_min, step_max = step_sizes
    state["step"] += 1
    prev, eta = state["prev"], state["step_size"]
    for i in range(len(param)):
        g = -grad[i] if maximize else grad[i]
        product = g * prev[i]
        factor = etaplus if product > 0 else etaminus if product < 0 else 1
        eta[i] = min(max(eta[i] * factor, step_min), step_max)  # torch's clamp_(min, max), every branch
        stored = g
        if product < 0 and variant != "rprop_minus":
            g = 0 * g  # no step on a sign change
            stored = stored if variant == "prev_kept_on_flip" else g
        if variant == "maximize_prev_unflipped" and maximize:
            stored = -stored
        if g > 0:
            param[i] = param[i] - eta[i]
        elif g < 0:
            param[i] = param[i] + eta[i]
        prev[i] = stored
