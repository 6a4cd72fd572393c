"""CosineAnnealingLR: anneal each group's lr from its base lr to eta_min along a half cosine
over T_max steps, and back up over the next T_max (torch does not clamp at T_max).

torch steps the chainable form (SGDR's closed form made recursive):

    lr_0 = base_lr                                                         (the initial step)
    lr_t = lr_{t-1} + (base_lr - eta_min) * (1 - cos(pi / T_max)) / 2      if (t - 1 - T_max) % (2 T_max) == 0
    lr_t = (1 + cos(pi t / T_max)) / (1 + cos(pi (t - 1) / T_max)) * (lr_{t-1} - eta_min) + eta_min
                                                                           otherwise

The first branch steps off the minimum, where the ratio would divide by 1 + cos(pi) = 0.
Closed form (what step(epoch) and SequentialLR's restart use):
eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2; equal up to rounding. (torch
also has a branch for a scheduler resumed with last_epoch > 0 on its first step; a fresh
scheduler never takes it.)
"""
from ._common import cos, pi, run_chainable

TORCH = "torch.optim.lr_scheduler:CosineAnnealingLR"
DEFAULTS = dict(T_max=None, eta_min=0.0)
REQUIRED = ("T_max",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.CosineAnnealingLR (chainable)",
    "closed_form": "eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2: the same up to rounding",
    "t_max_plus_one": "known bug: the period is T_max + 1 steps (the minimum reached one step late)",
    "ratio_without_eta_min": "known bug: the chainable ratio scales lr_{t-1} itself, not lr_{t-1} - eta_min",
    "clamped_after_t_max": "SGDR without restarts, a common assumption: the lr stays at eta_min after T_max",
}
EQUIVALENT = ("closed_form",)


def closed_form(epoch, base_lrs, hp, num=float, T_max=None):
    eta_min, T_max, PI = hp["eta_min"], T_max or hp["T_max"], pi(num)
    return [eta_min + (base_lr - eta_min) * (1 + cos(PI * epoch / T_max)) / 2 for base_lr in base_lrs]


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    eta_min, T_max, PI = hp["eta_min"], hp["T_max"], pi(num)
    if variant == "closed_form":
        return closed_form(epoch, base_lrs, hp, num)
    if variant == "t_max_plus_one":
        return closed_form(epoch, base_lrs, hp, num, T_max + 1)
    if variant == "clamped_after_t_max":
        return closed_form(min(epoch, T_max), base_lrs, hp, num)
    if initial:
        return list(lrs)
    if (epoch - 1 - T_max) % (2 * T_max) == 0:
        return [lr + (base_lr - eta_min) * (1 - cos(PI / T_max)) / 2 for lr, base_lr in zip(lrs, base_lrs)]
    ratio = (1 + cos(PI * epoch / T_max)) / (1 + cos(PI * (epoch - 1) / T_max))
    if variant == "ratio_without_eta_min":
        return [ratio * lr for lr in lrs]
    return [ratio * (lr - eta_min) + eta_min for lr in lrs]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
