"""Averaged SGD (Polyak & Juditsky, 1992; schedule of Bottou's ASGD), as torch.optim.ASGD computes it.

    g_t   = -grad if maximize else grad
    g_t   = g_t + weight_decay * p                   (if weight_decay != 0)
    p_t   = p * (1 - lambd * eta_{t-1}) - eta_{t-1} * g_t
    ax_t  = p_t                                      if mu_{t-1} == 1
    ax_t  = ax_{t-1} + mu_{t-1} * (p_t - ax_{t-1})   otherwise
    eta_t = lr / (1 + lambd * lr * t)^alpha
    mu_t  = 1 / max(1, t - t0)

with eta_0 = lr, mu_0 = 1, ax_0 = 0 (state "eta", "mu": one number per tensor; "ax":
the averaged parameters).

torch.optim.ASGD's docstring has no algorithm block; this is its code: Polyak-Juditsky
averaging with the step size schedule of Bottou's ASGD (alpha = 0.75 there), lambd being
both the L2 decay and the schedule's rate. Choices to name: the update at step t uses eta
and mu computed at the end of step t - 1 (schedule_before_update computes them from t
first); the average is uniform from step t0 on, mu = 1 / (t - t0). Torch keeps eta and
mu as 0-d tensors of its default scalar dtype, float32 unless torch's default dtype is
float64, so torch's float64 run with the default left at float32 uses eta and mu rounded
to float32 (the float32_scalars variant). This reference keeps them exact.
"""
import struct

from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:ASGD", complex=True, stores_decayed_params=True)
DEFAULTS = dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False)

VARIANTS = {
    "torch": "torch.optim.ASGD",
    "schedule_before_update": "eta and mu computed from the current step t before the update, "
    "instead of from t - 1",
    "no_decay_term": "lambd only slows the schedule: the decay p * (1 - lambd * eta) is left out",
    "float32_scalars": "eta and mu rounded to float32, as torch stores them unless its default dtype "
    "is float64",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "eta": zero + hp["lr"], "mu": zero + 1, "ax": [zero] * size}


def _float32(x):
    """x rounded to float32, in x's number type."""
    return x - x + struct.unpack("f", struct.pack("f", float(x)))[0]


def _schedule(t, lr, lambd, alpha, t0, variant):
    eta = lr / (1 + lambd * lr * t) ** alpha
    mu = 1 / max(t - t0, 0 * lr + 1)
    if variant == "float32_scalars":
        return _float32(eta), _float32(mu)
    return eta, mu


def step(param, grad, state, *, lr, lambd, alpha, t0, weight_decay, maximize, variant="torch", store=None):
    state["step"] += 1
    t = state["step"]
    if variant == "schedule_before_update":
        state["eta"], state["mu"] = _schedule(t, lr, lambd, alpha, t0, variant)
    eta, mu, ax = state["eta"], state["mu"], state["ax"]
    if variant == "float32_scalars":
        eta = state["eta"] = _float32(eta)  # eta_0 = lr, stored in float32 too
    decay = 1 if variant == "no_decay_term" else 1 - lambd * eta
    for i in range(len(param)):
        g = -grad[i] if maximize else grad[i]
        if weight_decay:
            g = g + weight_decay * param[i]
        param[i] = param[i] * decay
        if store:  # a low-precision run keeps the decayed parameter (trajectory.run)
            param[i] = store(param[i])
        param[i] = param[i] - eta * g
        ax[i] = param[i] if mu == 1 else ax[i] + mu * (param[i] - ax[i])
    if variant != "schedule_before_update":
        state["eta"], state["mu"] = _schedule(t, lr, lambd, alpha, t0, variant)
