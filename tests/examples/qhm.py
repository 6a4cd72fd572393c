"""Quasi-hyperbolic momentum (Ma and Yarats, 2019), a reference kept outside optgold.

    b_t = beta * b_{t-1} + (1 - beta) * g_t
    p_t = p_{t-1} - lr * ((1 - nu) * g_t + nu * b_t)
"""
from optgold.reference.capabilities import Capabilities

CAPABILITIES = Capabilities()  # no torch class: torch has no QHM
DEFAULTS = dict(lr=1e-3, beta=0.999, nu=0.7)
VARIANTS = {
    "torch": "QHM as the paper writes it",
    "undamped_buffer": "known bug: b_t = beta * b_{t-1} + g_t, the buffer not damped by 1 - beta",
}
GRID = [
    ("default_rotated", "quadratic_rotated_10d", 100, dict(lr=1e-3, beta=0.9)),
    ("nu_rosenbrock", "rosenbrock_2d", 200, dict(lr=2e-3, beta=0.9, nu=0.5)),
]


def init_state(size, hp, zero=0.0):
    return {"momentum_buffer": [zero] * size}


def step(param, grad, state, *, lr, beta, nu, variant="torch"):
    buf = state["momentum_buffer"]
    for i in range(len(param)):
        damping = 1 if variant == "undamped_buffer" else 1 - beta
        buf[i] = beta * buf[i] + damping * grad[i]
        param[i] = param[i] - lr * ((1 - nu) * grad[i] + nu * buf[i])
