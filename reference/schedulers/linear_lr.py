"""LinearLR: ramp each group's lr linearly from start_factor to end_factor times its base lr
over total_iters steps, then hold it.

torch steps the chainable form:

    lr_0 = base_lr * start_factor                                          (the initial step)
    lr_t = lr_{t-1} * (1 + (end - start) / (total_iters * start + (t - 1) * (end - start)))
                                                                           1 <= t <= total_iters
    lr_t = lr_{t-1}                                                        t > total_iters

Closed form: base_lr * (start + (end - start) * min(total_iters, t) / total_iters); equal up
to rounding.
"""
from ._common import run_chainable

TORCH = "torch.optim.lr_scheduler:LinearLR"
DEFAULTS = dict(start_factor=1.0 / 3, end_factor=1.0, total_iters=5)
REQUIRED = ()
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.LinearLR (chainable)",
    "closed_form": "base_lr * (start + (end - start) * min(total_iters, t) / total_iters): the same up to rounding",
    "chainable_from_base": "known bug: the chainable factor multiplies base_lr instead of the current lr",
    "ramp_over_total_iters_plus_one": "known bug: the ramp divides by total_iters + 1 and never reaches end_factor",
}
EQUIVALENT = ("closed_form",)


def closed_form(epoch, base_lrs, hp, num=float, total_iters=None):
    start, end = hp["start_factor"], hp["end_factor"]
    total_iters = total_iters or hp["total_iters"]
    return [base_lr * (start + (end - start) * min(hp["total_iters"], epoch) / total_iters)
            for base_lr in base_lrs]


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    start, end, total_iters = hp["start_factor"], hp["end_factor"], hp["total_iters"]
    if variant == "closed_form":
        return closed_form(epoch, base_lrs, hp)
    if variant == "ramp_over_total_iters_plus_one":
        return closed_form(epoch, base_lrs, hp, total_iters=total_iters + 1)
    if epoch == 0:
        return [lr * start for lr in lrs]
    if initial or epoch > total_iters:
        return list(lrs)
    factor = 1.0 + (end - start) / (total_iters * start + (epoch - 1) * (end - start))
    if variant == "chainable_from_base":
        return [base_lr * factor for base_lr in base_lrs]
    return [lr * factor for lr in lrs]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
