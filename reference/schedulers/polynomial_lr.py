"""PolynomialLR: decay each group's lr polynomially to zero over total_iters steps.

torch steps the chainable form:

    lr_0 = base_lr                                                       (the initial step)
    lr_t = lr_{t-1} * ((1 - t / total_iters) / (1 - (t - 1) / total_iters)) ** power
                                                                         1 <= t <= total_iters
    lr_t = lr_{t-1}                                                      t > total_iters (zero)

Closed form: base_lr * (1 - min(total_iters, t) / total_iters) ** power; equal up to rounding.
"""
from ._common import run_chainable

TORCH = "torch.optim.lr_scheduler:PolynomialLR"
DEFAULTS = dict(total_iters=5, power=1.0)
REQUIRED = ()
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.PolynomialLR (chainable)",
    "closed_form": "base_lr * (1 - min(total_iters, t) / total_iters) ** power: the same up to rounding",
    "power_ignored": "known bug: the chainable ratio is not raised to power (a linear decay whatever power is)",
    "decay_over_total_iters_plus_one": "known bug: (1 - t / (total_iters + 1)) ** power, never reaching zero",
}
EQUIVALENT = ("closed_form",)


def closed_form(epoch, base_lrs, hp, num=float, total_iters=None):
    total_iters = total_iters or hp["total_iters"]
    decay = (1.0 - min(total_iters, epoch) / num(total_iters)) ** hp["power"]
    return [base_lr * decay for base_lr in base_lrs]


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    total_iters, power = hp["total_iters"], hp["power"]
    if variant == "closed_form":
        return closed_form(epoch, base_lrs, hp, num)
    if variant == "decay_over_total_iters_plus_one":
        return closed_form(epoch, base_lrs, hp, num, total_iters + 1)
    if initial or epoch > total_iters:
        return list(lrs)
    ratio = (1.0 - num(epoch) / total_iters) / (1.0 - num(epoch - 1) / total_iters)
    decay = ratio if variant == "power_ignored" else ratio ** power
    return [lr * decay for lr in lrs]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
