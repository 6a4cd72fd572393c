"""RMSprop (Hinton, lecture 6e; centered form: Graves, 2013), as torch.optim.RMSprop documents it.

    g_t   = -grad if maximize else grad
    g_t   = g_t + weight_decay * p                 (if weight_decay != 0)
    v_t   = alpha * v_{t-1} + (1 - alpha) * g_t^2                       (square_avg)
    vt    = v_t
    if centered:
        a_t = alpha * a_{t-1} + (1 - alpha) * g_t                       (grad_avg)
        vt  = v_t - a_t^2
    if momentum > 0:
        b_t = momentum * b_{t-1} + g_t / (sqrt(vt) + eps)               (momentum_buffer)
        p_t = p - lr * b_t
    else:
        p_t = p - lr * g_t / (sqrt(vt) + eps)

Torch takes the square root before adding eps; TensorFlow adds eps under the root
(the eps_inside_sqrt variant). Graves' centered form also puts eps under the root; torch
keeps it outside there too. The buffer holds no lr (Keras/TF fold lr into it, which is
equal at constant lr). momentum_buffer exists only with momentum > 0, grad_avg only when
centered, as in torch.
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:RMSprop", complex=True)
DEFAULTS = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False)

VARIANTS = {
    "torch": "torch.optim.RMSprop",
    "eps_inside_sqrt": "TensorFlow form: sqrt(vt + eps) instead of sqrt(vt) + eps",
    "decay_outside_square_avg": "weight decay added to the numerator only: v, grad_avg see the raw gradient",
    "maximize_on_lr": "known bug: maximize flips lr instead of the gradient, so weight decay grows p",
}


def init_state(size, hp, zero=0.0):
    state = {"step": 0, "square_avg": [zero] * size}
    if hp["momentum"] > 0:
        state["momentum_buffer"] = [zero] * size
    if hp["centered"]:
        state["grad_avg"] = [zero] * size
    return state


def step(param, grad, state, *, lr, alpha, eps, weight_decay, momentum, centered, maximize, variant="torch"):
    state["step"] += 1
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    v, a, b = state["square_avg"], state.get("grad_avg"), state.get("momentum_buffer")
    for i in range(len(param)):
        g = -grad[i] if flip_grad else grad[i]
        stat = g  # what the averages see
        if weight_decay:
            g = g + weight_decay * param[i]
            if variant != "decay_outside_square_avg":
                stat = g
        v[i] = alpha * v[i] + (1 - alpha) * stat * stat
        vt = v[i]
        if centered:
            a[i] = alpha * a[i] + (1 - alpha) * stat
            vt = vt - a[i] * a[i]
        denom = sqrt(vt + eps) if variant == "eps_inside_sqrt" else sqrt(vt) + eps
        if momentum > 0:
            b[i] = momentum * b[i] + g / denom
            update = b[i]
        else:
            update = g / denom
        param[i] = param[i] - lr_sign * lr * update
