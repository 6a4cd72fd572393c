"""The lr of each step of a CIFAR case, from its schedule spec, in Python floats.

A schedule is the one spec every golden case uses: {"scheduler": <reference scheduler
name>, "hp": {...}} (reference/schedulers/), or None for the case's lr throughout. The
lr of step t is the scheduler's row t - 1, its lr after t - 1 calls of step(), as torch
applies it: built before the first optimizer step, stepped after each.

The golden stores the resulting lr of every step, so a check feeds the implementation
exactly the floats the reference used, whatever libm computes cos as on its machine.
"""
from optgold.reference import schedulers


def learning_rates(schedule, lr, steps):
    """The lr of steps 1..steps of one param group whose lr is ``lr``."""
    if schedule is None:
        return [lr] * steps
    module = schedulers.get(schedule["scheduler"])
    if tuple(module.QUANTITIES) != ("lr",) or getattr(module, "METRICS", False):
        raise ValueError(f"{schedule['scheduler']}: a CIFAR case stores only the lr of each step and has no metric; "
                         "use a scheduler that sets the lr alone")
    rows = schedulers.schedule(schedule["scheduler"], [{"lr": lr}], max(steps - 1, 0), schedule["hp"])["lr"]
    return [row[0] for row in rows[:steps]]
