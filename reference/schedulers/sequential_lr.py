"""SequentialLR: one scheduler after another, switching at the milestones.

torch's algorithm (2.x):

    construction: the sub-schedulers are built first (each takes its initial step); then
                  SequentialLR resets every group's lr to its initial_lr, undoes the subs'
                  initial steps (last_epoch -= 1) and re-takes the initial step of the
                  scheduler active at epoch 0 only
    step t:       k = bisect_right(milestones, t)
                  if t is milestone k - 1: sub k restarts: _update_lr(0), its closed form at
                                           epoch 0 from base_lr (the chainable step at epoch 0
                                           where it has no closed form: MultiplicativeLR)
                  else:                    sub k steps as usual (its own epoch + 1)

So the schedule after a milestone starts again from base_lr, not from the lr the previous
scheduler reached. Sub-scheduler specs are as for ChainedScheduler.
"""
from bisect import bisect_left, bisect_right

from .chained_scheduler import restart, sub_schedulers

TORCH = "torch.optim.lr_scheduler:SequentialLR"
DEFAULTS = dict(schedulers=None, milestones=None)
REQUIRED = ("schedulers", "milestones")
SUB_SCHEDULERS = ("schedulers",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.SequentialLR",
    "construction_not_undone": "known bug (torch <= 1.11): the lrs the sub-schedulers' construction left "
                               "are not reset, so the first scheduler's initial step applies twice",
    "continue_at_milestone": "known bug: at a milestone the next scheduler steps on from the current lr "
                             "instead of restarting from base_lr",
    "switch_one_late": "known bug: bisect_left, so each scheduler takes over one step after its milestone",
}
EQUIVALENT = ()


def schedule(groups, steps, hp, variant="torch", num=float):
    subs = sub_schedulers(hp["schedulers"], num)
    milestones = hp["milestones"]
    base_lrs = [num(g["lr"]) for g in groups]
    lrs = list(base_lrs)
    for module, sub_hp in subs:  # the subs' own construction
        lrs = module.get_lr(0, lrs, base_lrs, sub_hp, initial=True, num=num)
    if variant != "construction_not_undone":
        lrs = list(base_lrs)
    epochs = [-1] * len(subs)  # after the undo
    k = bisect_right(milestones, 0)
    module, sub_hp = subs[k]
    lrs = module.get_lr(0, lrs, base_lrs, sub_hp, initial=True, num=num)
    epochs[k] = 0
    rows = [lrs]
    locate = bisect_left if variant == "switch_one_late" else bisect_right
    for t in range(1, steps + 1):
        k = locate(milestones, t)
        module, sub_hp = subs[k]
        if k > 0 and milestones[k - 1] == t and variant != "continue_at_milestone":
            epochs[k] = 0
            lrs = restart(module, lrs, base_lrs, sub_hp, num)
        else:
            epochs[k] += 1
            lrs = module.get_lr(epochs[k], lrs, base_lrs, sub_hp, initial=False, num=num)
        rows.append(lrs)
    return {"lr": rows}
