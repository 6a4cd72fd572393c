"""MultiplicativeLR: each step multiplies each group's lr by a function of the epoch.

    lr_0 = base_lr                                 (the initial step leaves the lr alone)
    lr_t = lr_{t-1} * lr_lambda(t)                 t >= 1

torch has no closed form for it; ``product_form``, base_lr * prod_{s=1..t} lr_lambda(s),
is the same up to rounding. At a SequentialLR milestone torch restarts it with
``_update_lr(0)``, which (no closed form) runs the chainable step at epoch 0:
lr * lr_lambda(0).
"""
from . import functions
from ._common import call, per_group, run_chainable

TORCH = "torch.optim.lr_scheduler:MultiplicativeLR"
DEFAULTS = dict(lr_lambda=None)
REQUIRED = ("lr_lambda",)
CALLABLES = ("lr_lambda",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.MultiplicativeLR (chainable)",
    "product_form": "base_lr * prod_{s=1..t} lr_lambda(s): the same up to rounding",
    "applied_at_construction": "known bug: lr_lambda(0) also applied by the initial step",
    "from_base_lr": "LambdaLR's rule by mistake: base_lr * lr_lambda(t)",
}
EQUIVALENT = ("product_form",)


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    fns = [functions.get(name) for name in per_group(hp["lr_lambda"], len(lrs))]
    if initial and variant != "applied_at_construction":
        return list(lrs)
    if variant == "from_base_lr":
        return [base_lr * call(fn, epoch, num) for fn, base_lr in zip(fns, base_lrs)]
    if variant == "product_form":
        out = []
        for fn, base_lr in zip(fns, base_lrs):
            factor = num(1)
            for s in range(1, epoch + 1):
                factor = factor * call(fn, s, num)
            out.append(base_lr * factor)
        return out
    return [lr * call(fn, epoch, num) for fn, lr in zip(fns, lrs)]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
