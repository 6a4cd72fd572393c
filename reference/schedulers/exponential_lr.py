"""ExponentialLR: multiply each group's lr by gamma at every step.

torch steps the chainable form: lr_0 = base_lr (the initial step leaves it), lr_t = lr_{t-1}
* gamma. Closed form: base_lr * gamma ** t; equal up to rounding (t multiplications against
one power).
"""
from ._common import run_chainable

TORCH = "torch.optim.lr_scheduler:ExponentialLR"
DEFAULTS = dict(gamma=None)
REQUIRED = ("gamma",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.ExponentialLR (chainable)",
    "closed_form": "base_lr * gamma ** t: the same up to rounding",
    "decay_at_construction": "known bug: the initial step decays too, base_lr * gamma ** (t + 1)",
    "first_step_skipped": "known bug: the first step() keeps base_lr, base_lr * gamma ** (t - 1) after",
}
EQUIVALENT = ("closed_form",)


def closed_form(epoch, base_lrs, hp, num=float):
    return [base_lr * hp["gamma"] ** epoch for base_lr in base_lrs]


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    if variant == "closed_form":
        return closed_form(epoch, base_lrs, hp)
    if variant == "first_step_skipped":
        return closed_form(max(epoch - 1, 0), base_lrs, hp)
    if initial and variant != "decay_at_construction":
        return list(lrs)
    return [lr * hp["gamma"] for lr in lrs]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
