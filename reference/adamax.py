"""Adamax (Kingma & Ba, 2015, section 7.1), as torch.optim.Adamax documents it.

    g_t   = -grad if maximize else grad
    g_t   = g_t + weight_decay * p                 (if weight_decay != 0)
    m_t   = beta1 * m_{t-1} + (1 - beta1) * g_t
    u_t   = max(beta2 * u_{t-1}, |g_t| + eps)
    p_t   = p - lr / (1 - beta1^t) * m_t / u_t

Torch differs from the paper's Algorithm 2, u_t = max(beta2 * u_{t-1}, |g_t|): it adds
eps to |g_t| inside the max, so u_t never falls below eps. Keras adds eps after the max
instead, m_t / (u_t + eps): the keras_eps_outside_max variant.
The paper's form is the paper_no_eps variant.
"""
from .arith import maximum
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:Adamax", complex=True)
DEFAULTS = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False)

VARIANTS = {
    "torch": "torch.optim.Adamax",
    "keras_eps_outside_max": "u_t = max(beta2 * u_{t-1}, |g_t|) and the update divides by u_t + eps (Keras)",
    "no_bias_correction": "the first moment is not bias-corrected: p -= lr * m_t / u_t",
    "paper_no_eps": "the paper's Algorithm 2: u_t = max(beta2 * u_{t-1}, |g_t|), no eps at all",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "exp_avg": [zero] * size, "exp_inf": [zero] * size}


def step(param, grad, state, *, lr, betas, eps, weight_decay, maximize, variant="torch"):
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    bias_correction1 = 1 if variant == "no_bias_correction" else 1 - beta1 ** t
    m, u = state["exp_avg"], state["exp_inf"]
    for i in range(len(param)):
        g = -grad[i] if flip_grad else grad[i]
        if weight_decay:
            g = g + weight_decay * param[i]
        m[i] = beta1 * m[i] + (1 - beta1) * g
        if variant == "keras_eps_outside_max":
            u[i] = maximum(beta2 * u[i], abs(g))
            denom = u[i] + eps
        elif variant == "paper_no_eps":
            u[i] = denom = maximum(beta2 * u[i], abs(g))
        else:
            u[i] = denom = maximum(beta2 * u[i], abs(g) + eps)
        param[i] = param[i] - lr_sign * lr / bias_correction1 * m[i] / denom
