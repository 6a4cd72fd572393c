"""Stochastic gradient descent with momentum, as torch.optim.SGD documents it.

    g_t  = -grad if maximize else grad
    g_t  = g_t + weight_decay * p_{t-1}                      (if weight_decay != 0)
    b_t  = g_t                                               (first step)
    b_t  = momentum * b_{t-1} + (1 - dampening) * g_t        (later steps)
    g_t  = g_t + momentum * b_t  if nesterov  else  b_t      (if momentum != 0)
    p_t  = p_{t-1} - lr * g_t

Torch differs from Sutskever et al. (2013): the velocity holds no lr, and dampening
is skipped on the first step.
"""
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:SGD", complex=True)
DEFAULTS = dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)

VARIANTS = {
    "torch": "torch.optim.SGD",
    "dampened_first_step": "dampening applied on the first step too: b_1 = (1 - dampening) * g_1",
    "nesterov_lr_in_velocity": "Sutskever/Keras Nesterov: v = momentum*v - lr*g; p += momentum*v - lr*g "
    "(equal to torch while lr is constant)",
    "maximize_on_lr": "maximize flips the sign of lr instead of the gradient (pytorch#81859 family): "
    "weight decay and the buffer see the unflipped gradient",
    "decay_after_momentum": "weight decay added to the update, outside the momentum buffer",
}


def init_state(size, hp, zero=0.0):
    # torch creates momentum_buffer lazily, on the first step, from the gradient.
    return {"momentum_buffer": None} if hp["momentum"] else {}


def step(param, grad, state, *, lr, momentum, dampening, weight_decay, nesterov, maximize, variant="torch"):
    flip_grad = maximize and variant != "maximize_on_lr"
    lr_sign = -1 if maximize and variant == "maximize_on_lr" else 1
    first_step = momentum and state["momentum_buffer"] is None
    if first_step:
        state["momentum_buffer"] = [0 * p for p in param]
    buf = state.get("momentum_buffer")
    for i in range(len(param)):
        g = -grad[i] if flip_grad else grad[i]
        decay = weight_decay * param[i]
        if variant != "decay_after_momentum":
            g = g + decay
        if momentum and nesterov and variant == "nesterov_lr_in_velocity":
            buf[i] = momentum * buf[i] - lr * g  # the buffer is a velocity with lr inside
            param[i] = param[i] + momentum * buf[i] - lr * g
            continue
        if momentum:
            if first_step and variant != "dampened_first_step":
                buf[i] = g
            else:
                buf[i] = momentum * buf[i] + (1 - dampening) * g
            g = g + momentum * buf[i] if nesterov else buf[i]
        if variant == "decay_after_momentum":
            g = g + decay
        param[i] = param[i] - lr_sign * lr * g
