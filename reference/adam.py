"""Adam (Kingma & Ba, 2015), as torch.optim.Adam documents it.

    g_t   = -grad if maximize else grad
    p     = p * (1 - lr * weight_decay)            if decoupled_weight_decay   (AdamW)
    g_t   = g_t + weight_decay * p                 otherwise
    m_t   = beta1 * m_{t-1} + (1 - beta1) * g_t
    v_t   = beta2 * v_{t-1} + (1 - beta2) * g_t^2
    vmax  = max(vmax, v_t)                         if amsgrad, and v_t := vmax below
    p_t   = p - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

Torch puts eps outside the bias-corrected square root, as Algorithm 1 of the paper
does; the paper's faster form (section 2, "epsilon hat") is the keras_epsilon_hat
variant. amsgrad keeps the maximum of the uncorrected v_t, as torch does. Eager torch
reads the step count as a Python number, so the bias corrections are float64; under
torch.compile it keeps the step a tensor of torch's scalar dtype (float32 unless the
default dtype is float64), as torchao's optimizers do, and 1 - beta2^t is then a float32
difference of nearly equal numbers: 1 - float32(0.999) is off by 1.7e-5 relative
(float32_bias_correction).
"""
from . import storage
from .arith import maximum, sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:Adam", complex=True, tensor_hyperparameters=("lr", "betas"),
                            stores_decayed_params=True)
DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                decoupled_weight_decay=False)

VARIANTS = {
    "torch": "torch.optim.Adam",
    "keras_epsilon_hat": "eps added to the uncorrected sqrt(v), with lr * sqrt(1 - beta2^t) / (1 - beta1^t)",
    "no_bias_correction": "neither moment bias-corrected",
    "decay_swapped": "coupled and decoupled weight decay swapped (Adam <-> AdamW)",
    "eps_inside_sqrt": "known bug: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
    "float32_bias_correction": "1 - beta^t computed in float32, from a float32 step tensor (torch.compile's "
    "torch.optim.Adam under a float32 default dtype, torchao)",
}


def init_state(size, hp, zero=0.0):
    state = {"step": 0, "exp_avg": [zero] * size, "exp_avg_sq": [zero] * size}
    if hp["amsgrad"]:
        state["max_exp_avg_sq"] = [zero] * size
    return state


def step(param, grad, state, *, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay,
         variant="torch", store=None):
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    decoupled = decoupled_weight_decay != (variant == "decay_swapped")
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    if variant == "no_bias_correction":
        bias_correction1 = bias_correction2 = 1
    elif variant == "float32_bias_correction":
        f32 = storage.rounder("float32")
        bias_correction1 = f32(1 - f32(f32(beta1) ** t))
        bias_correction2 = f32(1 - f32(f32(beta2) ** t))
    m, v, v_max = state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")
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
        if amsgrad:
            v_max[i] = maximum(v_max[i], v[i])
        second = v_max[i] if amsgrad else v[i]
        step_size = lr / bias_correction1
        if variant == "keras_epsilon_hat":
            step_size = step_size * sqrt(bias_correction2)
            denom = sqrt(second) + eps
        elif variant == "eps_inside_sqrt":
            denom = sqrt(second / bias_correction2 + eps)
        else:
            denom = sqrt(second) / sqrt(bias_correction2) + eps
        param[i] = param[i] - lr_sign * step_size * m[i] / denom
