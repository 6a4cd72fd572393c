"""ConstantLR: scale each group's lr by factor until total_iters, then restore it.

torch steps the chainable form:

    lr_0 = base_lr * factor                  (the initial step)
    lr_t = lr_{t-1} * (1 / factor)           if t == total_iters
    lr_t = lr_{t-1}                          otherwise

Closed form: base_lr * (factor + (t >= total_iters) * (1 - factor)); equal up to rounding
for total_iters >= 1. (With total_iters = 0 they differ: the chainable form never restores,
since t == 0 is the initial step; the grid leaves that corner out.)
"""
from ._common import run_chainable

TORCH = "torch.optim.lr_scheduler:ConstantLR"
DEFAULTS = dict(factor=1.0 / 3, total_iters=5)
REQUIRED = ()
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.ConstantLR (chainable)",
    "closed_form": "base_lr * (factor + (t >= total_iters) * (1 - factor)): the same up to rounding",
    "restore_one_late": "known bug: the lr is restored at total_iters + 1",
    "compounding": "known bug: the factor is applied again at every step before total_iters",
}
EQUIVALENT = ("closed_form",)


def closed_form(epoch, base_lrs, hp, num=float):
    factor, total_iters = hp["factor"], hp["total_iters"]
    return [base_lr * (factor + (epoch >= total_iters) * (1 - factor)) for base_lr in base_lrs]


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    factor, total_iters = hp["factor"], hp["total_iters"]
    if variant == "closed_form":
        return closed_form(epoch, base_lrs, hp)
    if variant == "restore_one_late":
        total_iters += 1
    if epoch == 0:
        return [lr * factor for lr in lrs]
    if variant == "compounding" and epoch < total_iters:
        return [lr * factor for lr in lrs]
    if epoch != total_iters:
        return list(lrs)
    if variant == "compounding":
        return list(base_lrs)
    return [lr * (1.0 / factor) for lr in lrs]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
