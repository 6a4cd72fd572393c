"""Adadelta (Zeiler, 2012), as torch.optim.Adadelta documents it.

    g_t   = -grad if maximize else grad
    g_t   = g_t + weight_decay * p                 (if weight_decay != 0)
    v_t   = rho * v_{t-1} + (1 - rho) * g_t^2                          (square_avg)
    dx_t  = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
    u_t   = rho * u_{t-1} + (1 - rho) * dx_t^2                         (acc_delta)
    p_t   = p - lr * dx_t

Torch differs from the paper (Algorithm 1) by the lr factor on the update, which the
paper does not have (lr = 1 is the paper). The accumulator u holds the unscaled dx_t,
not the applied step lr * dx_t: the paper's form, where u tracks the actual update, is
the lr_in_accumulator variant (equal to torch at lr = 1).
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:Adadelta", complex=True)
DEFAULTS = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)

VARIANTS = {
    "torch": "torch.optim.Adadelta",
    "lr_in_accumulator": "u accumulates the applied step (lr * dx)^2, as the paper's update would "
    "(equal to torch at lr = 1)",
    "eps_outside_sqrt": "known bug: (sqrt(u) + eps) / (sqrt(v) + eps) instead of sqrt(u + eps) / sqrt(v + eps)",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "square_avg": [zero] * size, "acc_delta": [zero] * size}


def step(param, grad, state, *, lr, rho, eps, weight_decay, maximize, variant="torch"):
    state["step"] += 1
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    v, u = state["square_avg"], state["acc_delta"]
    for i in range(len(param)):
        g = -grad[i] if flip_grad else grad[i]
        if weight_decay:
            g = g + weight_decay * param[i]
        v[i] = rho * v[i] + (1 - rho) * g * g
        if variant == "eps_outside_sqrt":
            dx = (sqrt(u[i]) + eps) / (sqrt(v[i]) + eps) * g
        else:
            dx = sqrt(u[i] + eps) / sqrt(v[i] + eps) * g
        applied = lr * dx if variant == "lr_in_accumulator" else dx
        u[i] = rho * u[i] + (1 - rho) * applied * applied
        param[i] = param[i] - lr_sign * lr * dx
