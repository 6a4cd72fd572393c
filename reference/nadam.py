"""NAdam (Dozat, 2016), as torch.optim.NAdam documents it.

    g_t     = -grad if maximize else grad
    p       = p * (1 - lr * weight_decay)          if decoupled_weight_decay   (NAdamW)
    g_t     = g_t + weight_decay * p               otherwise
    mu_t    = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
    mu_t+1  = beta1 * (1 - 0.5 * 0.96^((t + 1) * momentum_decay))
    mu_product_t = mu_product_{t-1} * mu_t        (mu_product_0 = 1: prod_{i<=t} mu_i)
    m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t
    v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t^2
    denom   = sqrt(v_t / (1 - beta2^t)) + eps
    p_t     = p - lr * (1 - mu_t) / (1 - mu_product_t) * g_t / denom
                - lr * mu_t+1 / (1 - mu_product_t * mu_t+1) * m_t / denom

The momentum schedule mu_t is the paper's, with 1/250 = 0.004 exposed as
momentum_decay. Torch differs from the paper's Algorithm 2 in the first moment, which
it averages with the constant beta1 (as Keras does) where the paper uses mu_t, and in
the decoupled (NAdamW) decay option. mu_product is one number per tensor, torch's state
"mu_product". (Torch keeps mu_product, like step, as a scalar tensor of torch's default
dtype: float32 unless torch.set_default_dtype(torch.float64), even for float64 params.)
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:NAdam", complex=True, stores_decayed_params=True)
DEFAULTS = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                decoupled_weight_decay=False, maximize=False)

VARIANTS = {
    "torch": "torch.optim.NAdam",
    "constant_mu": "no momentum schedule: mu_t = beta1 for every t, so mu_product = beta1^t (optax's nadam)",
    "paper_first_moment": "the paper's m_t = mu_t * m_{t-1} + (1 - mu_t) * g_t instead of the beta1 average",
    "schedule_from_zero": "known bug: the schedule counts from t - 1, mu_t = beta1 * (1 - 0.5 * 0.96^((t-1) psi))",
    "decay_swapped": "coupled and decoupled weight decay swapped (NAdam <-> NAdamW)",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "mu_product": zero + 1, "exp_avg": [zero] * size, "exp_avg_sq": [zero] * size}


def momentum(t, beta1, momentum_decay):
    """mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))."""
    return beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))


def step(param, grad, state, *, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize,
         variant="torch", store=None):
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    decoupled = decoupled_weight_decay != (variant == "decay_swapped")
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    schedule_t = t - 1 if variant == "schedule_from_zero" else t
    if variant == "constant_mu":
        mu = mu_next = beta1
    else:
        mu, mu_next = momentum(schedule_t, beta1, momentum_decay), momentum(schedule_t + 1, beta1, momentum_decay)
    state["mu_product"] = state["mu_product"] * mu
    mu_product, mu_product_next = state["mu_product"], state["mu_product"] * mu_next
    bias_correction2 = 1 - beta2 ** t
    grad_step = lr * (1 - mu) / (1 - mu_product)
    avg_step = lr * mu_next / (1 - mu_product_next)
    average = mu if variant == "paper_first_moment" else beta1
    m, v = state["exp_avg"], state["exp_avg_sq"]
    for i in range(len(param)):
        g = -grad[i] if flip_grad else grad[i]
        if weight_decay and decoupled:
            param[i] = param[i] * (1 - lr_sign * lr * weight_decay)
            if store:  # a low-precision run keeps the decayed parameter (trajectory.run)
                param[i] = store(param[i])
        elif weight_decay:
            g = g + weight_decay * param[i]
        m[i] = average * m[i] + (1 - average) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g * g
        denom = sqrt(v[i] / bias_correction2) + eps
        if store:  # torch adds the two terms one at a time: a low-precision run keeps the first sum
            param[i] = store(param[i] - lr_sign * grad_step * g / denom) - lr_sign * avg_step * m[i] / denom
        else:
            param[i] = param[i] - lr_sign * (grad_step * g / denom + avg_step * m[i] / denom)
