"""What the scheduler references share: torch's stepping protocol, per-group values, numbers.

Stepping protocol (torch.optim.lr_scheduler.LRScheduler). Constructing a scheduler records
each group's ``initial_lr`` (its base lr) and takes an *initial step*: ``last_epoch`` goes
from -1 to 0 and ``get_lr`` runs with ``initial=True`` (torch's ``_is_initial``). Every
``scheduler.step()`` then adds one to ``last_epoch`` and runs ``get_lr`` again. Row 0 of a
sequence is the lr right after construction (what the first optimizer step uses); row t the
lr after the t-th ``scheduler.step()``.

Numbers. Every value (lr, momentum) is computed in ``num``: float (IEEE double, as torch
does in Python) or mpmath.mpf, for the golden's certificate. Discrete decisions (which
phase, which cycle, is a metric better, is a reduction bigger than eps) are taken on
floats, as torch takes them, so that the high-precision run follows the same branches and
measures the rounding of the values alone.
"""
import math


def convert(value, num):
    """Hyperparameters in the number type: floats, also inside lists and sub-scheduler specs,
    become ``num``; ints, strings, flags and None stay as they are (torch keeps them so)."""
    if isinstance(value, float):
        return num(value)
    if isinstance(value, (list, tuple)):
        return type(value)(convert(v, num) for v in value)
    if isinstance(value, dict):
        return {k: convert(v, num) for k, v in value.items()}
    return value


def per_group(value, n):
    """torch's ``_format_param``: one value for every group, or a list with one per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"expected {n} values, one per param group, got {len(value)}")
        return list(value)
    return [value] * n


def call(fn, x, num):
    """A registered function at the int x: as torch passes it in float runs, as num(x) otherwise,
    so that the function computes in the number type."""
    return fn(x) if num is float else fn(num(x))


def pi(num):
    """pi in the number type: math.pi for floats (as torch uses it), else Machin's formula."""
    if num is float:
        return math.pi
    return 16 * _atan_inverse(num, 5) - 4 * _atan_inverse(num, 239)


def _atan_inverse(num, n):
    x = num(1) / n
    x2, term, total, k = x * x, x, x, 0
    while True:
        term = -term * x2
        k += 1
        step = term / (2 * k + 1)
        if total + step == total:
            return total
        total += step


def cos(x):
    """cos for floats (math.cos, bit for bit what torch gets) and for other number types (a
    Taylor series after reduction to [-pi, pi], to the type's own precision)."""
    if isinstance(x, (float, int)):
        return math.cos(x)
    num = type(x)
    two_pi = 2 * pi(num)
    r = x - math.floor(x / two_pi + num(1) / 2) * two_pi
    r2, term, total, k = r * r, num(1), num(1), 0
    while True:
        term = -term * r2 / ((k + 1) * (k + 2))
        k += 2
        if total + term == total:
            return total
        total += term


def run_chainable(get_lr, groups, steps, hp, variant, num):
    """A scheduler written as torch's ``get_lr``: the initial step, then ``steps`` steps.

    ``get_lr(epoch, lrs, base_lrs, hp, initial=..., variant=..., num=...)`` returns every
    group's new lr from the lrs the groups have now (the chainable form reads them).
    """
    hp = convert(hp, num)
    base_lrs = [num(g["lr"]) for g in groups]
    lrs = get_lr(0, list(base_lrs), base_lrs, hp, initial=True, variant=variant, num=num)
    rows = [lrs]
    for epoch in range(1, steps + 1):
        lrs = get_lr(epoch, lrs, base_lrs, hp, initial=False, variant=variant, num=num)
        rows.append(lrs)
    return {"lr": rows}
