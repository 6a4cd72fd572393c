"""StepLR: decay each group's lr by gamma every step_size epochs.

torch steps the chainable form:

    lr_t = lr_{t-1} * gamma     if t > 0 and t % step_size == 0
    lr_t = lr_{t-1}             otherwise

Closed form (what ``step(epoch)`` uses): lr_t = base_lr * gamma ** (t // step_size); the two
are equal up to rounding.
"""
from ._common import run_chainable

TORCH = "torch.optim.lr_scheduler:StepLR"
DEFAULTS = dict(step_size=None, gamma=0.1)
REQUIRED = ("step_size",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.StepLR (chainable)",
    "closed_form": "base_lr * gamma ** (t // step_size): the same up to rounding",
    "decay_one_early": "known bug: base_lr * gamma ** ((t + 1) // step_size), the epoch counted from 1",
    "decay_one_late": "known bug: base_lr * gamma ** ((t - 1) // step_size) for t >= 1, decaying one step late",
}
EQUIVALENT = ("closed_form",)


def closed_form(epoch, base_lrs, hp, num=float):
    return [base_lr * hp["gamma"] ** (epoch // hp["step_size"]) for base_lr in base_lrs]


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    if variant == "closed_form":
        return closed_form(epoch, base_lrs, hp)
    if variant == "decay_one_early":
        return closed_form(epoch + 1, base_lrs, hp)
    if variant == "decay_one_late":
        return closed_form(max(epoch - 1, 0), base_lrs, hp)
    if epoch == 0 or epoch % hp["step_size"] != 0:
        return list(lrs)
    return [lr * hp["gamma"] for lr in lrs]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
