"""Learning-rate schedules, in plain Python: the lr each step uses, computed once.

The golden stores the resulting lr of every step, so a check feeds the implementation
exactly the floats the reference used, whatever libm computes cos as on its machine.
"""
import math


def constant(lr, steps):
    return [lr] * steps


def warmup_cosine(lr, steps, warmup, final_fraction):
    """Linear warmup over ``warmup`` steps to ``lr``, then cosine decay to ``final_fraction * lr``
    at the last step (torch's LinearLR followed by CosineAnnealingLR, in closed form)."""
    rates = []
    for t in range(1, steps + 1):
        if t <= warmup:
            rates.append(lr * t / warmup)
        else:
            progress = (t - warmup) / max(steps - warmup, 1)
            rates.append(lr * (final_fraction + (1 - final_fraction) * (1 + math.cos(math.pi * progress)) / 2))
    return rates


SCHEDULES = {"constant": constant, "warmup_cosine": warmup_cosine}


def learning_rates(schedule, lr, steps):
    """The lr of steps 1..steps; ``schedule`` is {"name": ..., **arguments}."""
    arguments = {k: v for k, v in schedule.items() if k != "name"}
    return SCHEDULES[schedule["name"]](lr, steps, **arguments)
