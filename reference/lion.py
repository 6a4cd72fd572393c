"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms", Program 1).

    g_t = -grad if maximize else grad
    c_t = beta1 * m_{t-1} + (1 - beta1) * g_t          (interpolate, with the old m)
    p_t = p_{t-1} * (1 - lr * weight_decay)             (decoupled decay, scaled by lr)
    p_t = p_t - lr * sign(c_t)                          (sign(0) = 0)
    m_t = beta2 * m_{t-1} + (1 - beta2) * g_t          (momentum, updated after the step)

with m_0 = 0 (state "exp_avg"). torch.optim has no Lion (torch=None); this follows
the paper's Program 1, whose "update + wd * p; p -= lr * update" is the same p_t, and
the common torch ports (lucidrains/lion-pytorch, timm, optax.lion), which all
interpolate with the old m and update m afterwards.

sign() is a discontinuity: where c_t is within rounding of 0 a correct float32
implementation may step the other way (a difference of 2 lr). The grid keeps
min |c_t| / (|beta1 m| + |(1 - beta1) g|) well above float32 rounding on every case
(measured in golden/grid/lion.py).
"""
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch=None, stores_decayed_params=True)  # tests/mutants/lion_mutants.py:Lion is the checked implementation
DEFAULTS = dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False)

VARIANTS = {
    "torch": "Lion, Program 1 of the paper (decoupled decay scaled by lr)",
    "momentum_first": "known bug: m updated with beta2 before the sign is taken, so c = sign(new m)",
    "betas_swapped": "beta2 interpolates the sign's argument and beta1 the momentum",
    "decay_unscaled": "decoupled decay not scaled by lr: p *= 1 - weight_decay",
    "coupled_decay": "weight decay added to the gradient (L2) before the interpolation",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
}


def sign(x):
    return 1 if x > 0 else -1 if x < 0 else 0


def init_state(size, hp, zero=0.0):
    return {"step": 0, "exp_avg": [zero] * size}


def step(param, grad, state, *, lr, betas, weight_decay, maximize, variant="torch", store=None):
    beta1, beta2 = betas
    if variant == "betas_swapped":
        beta1, beta2 = beta2, beta1
    state["step"] += 1
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    m = state["exp_avg"]
    for i in range(len(param)):
        g = -grad[i] if flip_grad else grad[i]
        if variant == "coupled_decay":
            g = g + weight_decay * param[i]
        elif variant == "decay_unscaled":
            param[i] = param[i] * (1 - weight_decay)
        elif weight_decay:
            param[i] = param[i] * (1 - lr_sign * lr * weight_decay)
            if store:  # a low-precision run keeps the decayed parameter (trajectory.run)
                param[i] = store(param[i])
        if variant == "momentum_first":
            m[i] = beta2 * m[i] + (1 - beta2) * g
            c = m[i]
        else:
            c = beta1 * m[i] + (1 - beta1) * g
            m[i] = beta2 * m[i] + (1 - beta2) * g
        param[i] = param[i] - lr_sign * lr * sign(c)
