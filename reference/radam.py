"""RAdam (Liu et al., 2020), as torch.optim.RAdam documents it.

    g_t     = -grad if maximize else grad
    p       = p * (1 - lr * weight_decay)          if decoupled_weight_decay   (RAdamW)
    g_t     = g_t + weight_decay * p               otherwise
    m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t
    v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t^2
    m_hat   = m_t / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t   = rho_inf - 2 t beta2^t / (1 - beta2^t)
    if rho_t > 5:
        l_t = sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
        r_t = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
        p_t = p - lr * m_hat * r_t * l_t
    else:                                          (the warm-up: SGD with momentum)
        p_t = p - lr * m_hat

The paper's Algorithm 2 has l_t = sqrt((1 - beta2^t) / v_t) and no eps; torch, like the
authors' code, adds eps to the uncorrected sqrt(v_t) (TensorFlow Addons adds it to
sqrt(v_t / (1 - beta2^t)): the eps_on_v_hat variant), updates with m_hat during the
warm-up (the authors' degenerated_to_sgd=True), and offers decoupled (RAdamW) decay.
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:RAdam", complex=True, stores_decayed_params=True)
DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                maximize=False)

VARIANTS = {
    "torch": "torch.optim.RAdam",
    "eps_on_v_hat": "l_t = 1 / (sqrt(v_t / (1 - beta2^t)) + eps) (TensorFlow Addons RectifiedAdam)",
    "no_warmup_update": "no update while rho_t <= 5 (the authors' degenerated_to_sgd=False)",
    "threshold_4": "known bug: rectified from rho_t > 4, one step into the warm-up",
    "decay_swapped": "coupled and decoupled weight decay swapped (RAdam <-> RAdamW)",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "exp_avg": [zero] * size, "exp_avg_sq": [zero] * size}


def step(param, grad, state, *, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize, variant="torch",
         store=None):
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    decoupled = decoupled_weight_decay != (variant == "decay_swapped")
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
    rectified = rho_t > (4 if variant == "threshold_4" else 5)
    if rectified:
        rect = sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    m, v = state["exp_avg"], state["exp_avg_sq"]
    for i in range(len(param)):
        g = -grad[i] if flip_grad else grad[i]
        if weight_decay and decoupled:
            param[i] = param[i] * (1 - lr_sign * lr * weight_decay)
            if store:  # a low-precision run keeps the decayed parameter (trajectory.run)
                param[i] = store(param[i])
        elif weight_decay:
            g = g + weight_decay * param[i]
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g * g
        m_hat = m[i] / bias_correction1
        if rectified:
            if variant == "eps_on_v_hat":
                adaptive = 1 / (sqrt(v[i] / bias_correction2) + eps)
            else:
                adaptive = sqrt(bias_correction2) / (sqrt(v[i]) + eps)
            param[i] = param[i] - lr_sign * lr * m_hat * rect * adaptive
        elif variant != "no_warmup_update":
            param[i] = param[i] - lr_sign * lr * m_hat
