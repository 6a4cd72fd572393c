"""Adagrad (Duchi, Hazan & Singer, 2011), as torch.optim.Adagrad documents it.

    g_t      = -grad if maximize else grad
    lr_t     = lr / (1 + (t - 1) * lr_decay)
    g_t      = g_t + weight_decay * p              (if weight_decay != 0)
    sum_t    = sum_{t-1} + g_t^2                   (sum_0 = initial_accumulator_value)
    p_t      = p - lr_t * g_t / (sqrt(sum_t) + eps)

Torch adds eps outside the square root; the paper's diagonal form has no eps (it adds
delta * I to the square root of the accumulated outer products, i.e. outside, like torch).
lr_decay and initial_accumulator_value are torch's (Lua torch's) additions. optax adds
eps inside the square root: the eps_inside_sqrt variant.
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:Adagrad", complex=True)
DEFAULTS = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                maximize=False)

VARIANTS = {
    "torch": "torch.optim.Adagrad",
    "eps_inside_sqrt": "g_t / sqrt(sum_t + eps) (optax's scale_by_rss form)",
    "lr_decay_from_t": "known bug: lr_t = lr / (1 + t * lr_decay), the decay a step early",
    "decay_outside_sum": "weight decay added to the update but not accumulated: sum_t += grad^2",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
}


def init_state(size, hp, zero=0.0):
    # torch fills sum at construction; step counts from 0
    return {"step": 0, "sum": [zero + hp["initial_accumulator_value"]] * size}


def step(param, grad, state, *, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize,
         variant="torch"):
    state["step"] += 1
    t = state["step"]
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    decays = t if variant == "lr_decay_from_t" else t - 1
    clr = lr / (1 + decays * lr_decay)
    s = state["sum"]
    for i in range(len(param)):
        raw = -grad[i] if flip_grad else grad[i]
        g = raw + weight_decay * param[i] if weight_decay else raw
        s[i] = s[i] + (raw * raw if variant == "decay_outside_sum" else g * g)
        if variant == "eps_inside_sqrt":
            denom = sqrt(s[i] + eps)
        else:
            denom = sqrt(s[i]) + eps
        param[i] = param[i] - lr_sign * clr * g / denom
