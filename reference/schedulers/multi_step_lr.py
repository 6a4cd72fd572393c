"""MultiStepLR: decay each group's lr by gamma at each milestone.

torch keeps the milestones as a Counter (a milestone listed twice decays twice; order does
not matter) and steps the chainable form:

    lr_t = lr_{t-1} * gamma ** count(t)      if t is a milestone
    lr_t = lr_{t-1}                          otherwise

Closed form: base_lr * gamma ** bisect_right(sorted(milestones), t); equal up to rounding.
"""
from bisect import bisect_left, bisect_right
from collections import Counter

from ._common import run_chainable

TORCH = "torch.optim.lr_scheduler:MultiStepLR"
DEFAULTS = dict(milestones=None, gamma=0.1)
REQUIRED = ("milestones",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.MultiStepLR (chainable, milestones counted)",
    "closed_form": "base_lr * gamma ** bisect_right(sorted(milestones), t): the same up to rounding",
    "repeated_milestone_once": "known bug: milestones as a set, so a repeated milestone decays once",
    "decay_one_late": "known bug: bisect_left, so each decay lands one step after its milestone",
}
EQUIVALENT = ("closed_form",)


def closed_form(epoch, base_lrs, hp, num=float):
    milestones = sorted(hp["milestones"])
    return [base_lr * hp["gamma"] ** bisect_right(milestones, epoch) for base_lr in base_lrs]


def get_lr(epoch, lrs, base_lrs, hp, *, initial, variant="torch", num=float):
    if variant == "closed_form":
        return closed_form(epoch, base_lrs, hp)
    if variant == "decay_one_late":
        return [base_lr * hp["gamma"] ** bisect_left(sorted(hp["milestones"]), epoch) for base_lr in base_lrs]
    counts = Counter(hp["milestones"])
    if variant == "repeated_milestone_once":
        counts = Counter(set(hp["milestones"]))
    if epoch not in counts:
        return list(lrs)
    return [lr * hp["gamma"] ** counts[epoch] for lr in lrs]


def schedule(groups, steps, hp, variant="torch", num=float):
    return run_chainable(get_lr, groups, steps, hp, variant, num)
