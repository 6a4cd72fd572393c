"""CyclicLR (Smith, 2017): cycle each group's lr between base_lr and max_lr, and its momentum
(SGD's momentum or Adam's beta1) between max_momentum and base_momentum, inversely.

torch's algorithm, at last_epoch t (0 at construction; lr is not chained, every step is closed):

    total = step_size_up + step_size_down          (step_size_down defaults to step_size_up)
    cycle = floor(1 + t / total)
    x     = 1 + t / total - cycle                  position in the cycle, in [0, 1)
    s     = x / ratio             if x <= ratio    ratio = step_size_up / total
            (x - 1) / (ratio - 1) otherwise        s rises 0 -> 1 -> 0 over the cycle
    scale = scale_fn(cycle)     scale_mode "cycle"       triangular: 1; triangular2: 1 / 2^(cycle - 1)
            scale_fn(t)         scale_mode "iterations"  exp_range: gamma ** t
    lr       = base_lr + (max_lr - base_lr) * s * scale
    momentum = max_momentum - (max_momentum - base_momentum) * s * scale     (cycle_momentum)

Construction sets every group's lr to base_lr and momentum to max_momentum. A custom
scale_fn (a registered function) overrides mode and uses scale_mode; without one, mode fixes
scale_mode (triangular, triangular2: cycle; exp_range: iterations) whatever is passed.
"""
import math

from . import functions
from ._common import call, convert, per_group

TORCH = "torch.optim.lr_scheduler:CyclicLR"
DEFAULTS = dict(base_lr=None, max_lr=None, step_size_up=2000, step_size_down=None, mode="triangular",
                gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                max_momentum=0.9)
REQUIRED = ("base_lr", "max_lr")
CALLABLES = ("scale_fn",)
QUANTITIES = ("lr", "momentum")
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.CyclicLR",
    "cycle_from_zero": "known bug: the scale function gets the cycle counted from 0 "
                       "(triangular2 starts at twice the amplitude)",
    "triangular2_halved_early": "known bug: triangular2 scale 1 / 2^cycle, halving the first cycle already",
    "momentum_in_phase": "known bug: momentum rises with the lr (base + height * s) instead of falling",
    "step_size_down_ignored": "known bug: a symmetric cycle, step_size_up both ways",
    "exp_range_per_cycle": "known bug: exp_range scaled per cycle, gamma ** cycle, instead of per iteration",
}
EQUIVALENT = ()


def _scale(hp, variant):
    """(scale_fn, scale_mode) as torch's _init_scale_fn picks them."""
    if hp["scale_fn"] is not None:
        return functions.get(hp["scale_fn"]), hp["scale_mode"]
    if hp["mode"] == "triangular":
        return (lambda x: 1.0), "cycle"
    if hp["mode"] == "triangular2":
        if variant == "triangular2_halved_early":
            return (lambda x: 1 / (2.0 ** x)), "cycle"
        return (lambda x: 1 / (2.0 ** (x - 1))), "cycle"
    if hp["mode"] == "exp_range":
        gamma = hp["gamma"]
        return (lambda x: gamma ** x), "cycle" if variant == "exp_range_per_cycle" else "iterations"
    raise ValueError(f"mode {hp['mode']!r} is unknown and no scale_fn is given")


def schedule(groups, steps, hp, variant="torch", num=float):
    hp = convert(hp, num)
    n = len(groups)
    base_lrs, max_lrs = per_group(hp["base_lr"], n), per_group(hp["max_lr"], n)
    up = float(hp["step_size_up"])
    down = float(hp["step_size_down"]) if hp["step_size_down"] is not None else up
    if variant == "step_size_down_ignored":
        down = up
    total, ratio = up + down, up / (up + down)  # floats, for the decisions
    ratio_n = num(up) / num(total)
    scale_fn, scale_mode = _scale(hp, variant)
    cycling = hp["cycle_momentum"]
    base_ms, max_ms = per_group(hp["base_momentum"], n), per_group(hp["max_momentum"], n)
    momenta = list(max_ms) if cycling else [num(g["momentum"]) for g in groups]
    rows = {"lr": [], "momentum": []}
    for t in range(steps + 1):
        cycle = math.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        x_n = 1 + num(t) / num(total) - cycle
        s = x_n / ratio_n if x <= ratio else (x_n - 1) / (ratio_n - 1)
        scale_cycle = cycle - 1 if variant == "cycle_from_zero" else cycle
        scale = call(scale_fn, scale_cycle if scale_mode == "cycle" else t, num)
        rows["lr"].append([base_lr + (max_lr - base_lr) * s * scale for base_lr, max_lr in zip(base_lrs, max_lrs)])
        if cycling:
            if variant == "momentum_in_phase":
                momenta = [base_m + (max_m - base_m) * s * scale for base_m, max_m in zip(base_ms, max_ms)]
            else:
                momenta = [max_m - (max_m - base_m) * s * scale for base_m, max_m in zip(base_ms, max_ms)]
        rows["momentum"].append(list(momenta))
    return rows
