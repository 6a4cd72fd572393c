"""Muon (Jordan et al., 2024), as torch.optim.Muon computes it, for 2-D parameters only.

    B_t    = B_{t-1} + (1 - momentum) * (g_t - B_{t-1})                      (state momentum_buffer)
    M_t    = g_t + momentum * (B_t - g_t)    if nesterov    else    B_t
    O_t    = NS(M_t):                                         (Newton-Schulz, a, b, c = ns_coefficients)
             X = M_t, transposed if it has more rows than columns
             X = X / max(||X||_F, eps)
             repeat ns_steps times:  A = X X^T;  X = a X + (b A + c A A) X
             transposed back
    p      = p_{t-1} * (1 - lr * weight_decay)
    p_t    = p - adjusted_lr * O_t,   adjusted_lr = lr * sqrt(max(1, rows / cols))   adjust_lr_fn None, "original"
                                                    lr * 0.2 * sqrt(max(rows, cols))  "match_rms_adamw"

Each deviation from it is a named variant:

- documented_buffer: torch's docstring writes the buffer as B_t = momentum B_{t-1} + g_t and
  Nesterov as g_t + momentum B_t; its code (like Keller Jordan's muon.py) lerps, which scales
  both by (1 - momentum). The orthogonalization removes that scale except where eps clamps
  the norm, so params differ only there, and the buffer differs everywhere. This reference
  follows the code.
- keller_norm_plus_eps: torch clamps the norm at eps where Keller Jordan's muon.py adds eps.
- decay_with_adjusted_lr (a known bug): weight decay uses the unadjusted lr.
- bfloat16_newton_schulz: torch.optim.Muon runs Newton-Schulz in bfloat16 whatever the
  parameter's dtype (grad.bfloat16() first), then adds the bfloat16 result to the
  parameter in its own dtype. The variant rounds as torch does (round to nearest even,
  every matmul and elementwise result rounded once) and reproduces its output bit for bit
  on float inputs. The default ("torch") runs Newton-Schulz in the parameter's precision,
  as the algorithm states it: the golden is the exact iteration, and torch's bfloat16 is a
  precision of the implementation, declared in CAPABILITIES.inner_precision. bfloat16
  carries 8 significant bits and the iteration amplifies their rounding (by ~5 typically,
  up to ~120 where M_t has a small singular value, in units of 2^-8 times max |O_t|,
  measured on the grid), so optgold judges a Muon one step at a time, with that step's
  amplification measured (optgold.inner_precision).

Transposing a tall matrix changes only the cost: X p(X^T X) = p(X X^T) X.
"""

from . import storage
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:Muon", uses_shape=True, matrices_only=True,  # Newton-Schulz works on the matrix
                            inner_precision=("bfloat16", "bfloat16_newton_schulz"))
DEFAULTS = dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315),
                eps=1e-7, ns_steps=5, adjust_lr_fn=None)

VARIANTS = {
    "torch": "torch.optim.Muon's algorithm, Newton-Schulz in the parameter's precision (the in-precision form)",
    "bfloat16_newton_schulz": "torch.optim.Muon as implemented: Newton-Schulz in bfloat16",
    "keller_norm_plus_eps": "Keller Jordan's muon.py normalization: X / (||X||_F + eps) instead of "
    "X / max(||X||_F, eps)",
    "documented_buffer": "torch's docstring: B_t = momentum B_{t-1} + g_t, Nesterov g_t + momentum B_t "
    "(no (1 - momentum) factor)",
    "decay_with_adjusted_lr": "known bug: weight decay scaled by the shape-adjusted lr",
}


def init_state(size, hp, zero=0.0, *, shape):
    return {"momentum_buffer": [zero] * size}


def _lerp(start, end, weight):
    """torch.lerp's formula, which switches form at weight 0.5."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _matmul(x, y):
    return [[sum(x[i][k] * y[k][j] for k in range(len(y))) for j in range(len(y[0]))] for i in range(len(x))]


def _transpose(x):
    return [list(row) for row in zip(*x)]


def newton_schulz(m, ns_coefficients, ns_steps, eps, variant="torch"):
    """The orthogonalization of matrix m (a list of rows), in torch's order of operations."""
    a, b, c = ns_coefficients
    rnd = storage.rounder("bfloat16") if variant == "bfloat16_newton_schulz" else (lambda v: v)
    x = [[rnd(v) for v in row] for row in m]
    tall = len(x) > len(x[0])
    if tall:
        x = _transpose(x)
    norm = rnd(sqrt(sum(v * v for row in x for v in row)))
    norm = norm + eps if variant == "keller_norm_plus_eps" else max(norm, eps)
    x = [[rnd(v / norm) for v in row] for row in x]
    for _ in range(ns_steps):
        gram = [[rnd(v) for v in row] for row in _matmul(x, _transpose(x))]
        square = _matmul(gram, gram)
        poly = [[rnd(b * g + c * s) for g, s in zip(grow, srow)] for grow, srow in zip(gram, square)]
        x = [[rnd(a * v + w) for v, w in zip(xrow, wrow)] for xrow, wrow in zip(x, _matmul(poly, x))]
    return _transpose(x) if tall else x


def adjusted_lr(lr, adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * sqrt(max(1, (0 * lr + rows) / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * (0.2 * sqrt(0 * lr + max(rows, cols)))
    return lr


def newton_schulz_input(grad, buf, momentum, nesterov, variant="torch"):
    """M_t, flat, from g_t and the buffer B_{t-1}, which it updates in place to B_t."""
    documented = variant == "documented_buffer"
    for i in range(len(grad)):
        buf[i] = momentum * buf[i] + grad[i] if documented else _lerp(buf[i], grad[i], 1 - momentum)
    if not nesterov:
        return list(buf)
    return [grad[i] + momentum * buf[i] if documented else _lerp(grad[i], buf[i], momentum) for i in range(len(grad))]


def step(param, grad, state, *, lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps,
         adjust_lr_fn, shape, variant="torch"):
    rows, cols = shape
    update = newton_schulz_input(grad, state["momentum_buffer"], momentum, nesterov, variant)
    matrix = [update[r * cols:(r + 1) * cols] for r in range(rows)]
    ortho = [v for row in newton_schulz(matrix, ns_coefficients, ns_steps, eps, variant) for v in row]
    step_lr = adjusted_lr(lr, adjust_lr_fn, shape)
    decay_lr = step_lr if variant == "decay_with_adjusted_lr" else lr
    for i in range(len(param)):
        param[i] = param[i] * (1 - decay_lr * weight_decay)
        param[i] = param[i] + -step_lr * ortho[i]
