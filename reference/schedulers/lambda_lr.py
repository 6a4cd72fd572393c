"""LambdaLR: each group's lr is its base lr times a function of the epoch.

    lr_t = base_lr * lr_lambda(t)                  t = 0 at construction, +1 per step()

``lr_lambda`` is one function for every group or a list with one per group; it is named
in reference.schedulers.functions. LambdaLR has no chainable form: every step is closed.
"""
from . import functions
from ._common import call, per_group, run_chainable

TORCH = "torch.optim.lr_scheduler:LambdaLR"
DEFAULTS = dict(lr_lambda=None)
REQUIRED = ("lr_lambda",)
CALLABLES = ("lr_lambda",)  # hyperparameters holding names of registered functions
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.LambdaLR",
    "lambda_of_next_epoch": "known bug: lr_lambda(t + 1), the epoch counted from 1",
    "chained": "MultiplicativeLR's rule by mistake: lr_{t-1} * lr_lambda(t) instead of base_lr * lr_lambda(t)",
    "first_lambda_for_all": "known bug: group 0's lr_lambda used for every group",
}
EQUIVALENT = ()  # variants equal to torch up to rounding


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    fns = [functions.get(name) for name in per_group(hp["lr_lambda"], len(lrs))]
    if variant == "first_lambda_for_all":
        fns = [fns[0]] * len(fns)
    if variant == "lambda_of_next_epoch":
        epoch += 1
    if variant == "chained" and not initial:
        return [lr * call(fn, epoch, num) for fn, lr in zip(fns, lrs)]
    return [base_lr * call(fn, epoch, num) for fn, base_lr in zip(fns, base_lrs)]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
