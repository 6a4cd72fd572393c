"""Bug mutants of optax schedules against torch's schedulers, each with one marked bug.

Two kinds, as the bugs of a port from torch to optax come: a schedule evaluated at the wrong
count (a user's schedule factory wrapping optax's, claimed as the factory it wraps), and a
wrong mapping of torch's hyperparameters to optax's keywords (a replacement for one entry of
optgold.adapters.optax_schedule.MAPPINGS). Each Mutant names the step every case must first
diverge at (None: the case passes) and the reference's variant that names it, where one does.
"""
import functools
from dataclasses import dataclass

import optax


@dataclass(frozen=True)
class Mutant:
    name: str
    factory: object  # what is checked: optax's factory, or a user's
    reference: str
    first_step: dict  # case id -> the step it first diverges at (None: it passes)
    mapping: object = None  # replaces MAPPINGS[factory name][reference]
    variant: str = None


@functools.wraps(optax.piecewise_constant_schedule)
def piecewise_constant_one_update_ahead(init_value, boundaries_and_scales=None):
    schedule = optax.piecewise_constant_schedule(init_value, boundaries_and_scales)
    return lambda count: schedule(count + 1)  # BUG: the count taken as already incremented for this update


def cosine_decay_steps_short(hp, lr, steps, group, groups):
    return dict(init_value=lr, decay_steps=hp["T_max"] - 1, alpha=hp["eta_min"] / lr)  # BUG: T_max - 1


def cosine_alpha_absolute(hp, lr, steps, group, groups):
    return dict(init_value=lr, decay_steps=hp["T_max"], alpha=hp["eta_min"])  # BUG: alpha is relative to init_value


def sgdr_periods_not_growing(hp, lr, steps, group, groups):
    period = dict(init_value=lr, peak_value=lr, warmup_steps=0, decay_steps=hp["T_0"], end_value=hp["eta_min"])
    return dict(cosine_kwargs=[period] * (steps // hp["T_0"] + 1))  # BUG: every period T_0 long, T_mult left out


def milestones_as_boundaries(hp, lr, steps, group, groups):
    return dict(init_value=lr, boundaries_and_scales={m: hp["gamma"] for m in hp["milestones"]})  # BUG: once each


MUTANTS = [
    Mutant("piecewise_constant_one_update_ahead", piecewise_constant_one_update_ahead, "multi_step_lr",
           {"repeated_milestone": 2, "unsorted_default_gamma": 1}),
    Mutant("cosine_decay_steps_short", optax.cosine_decay_schedule, "cosine_annealing_lr",
           {"past_t_max_eta_min": 1, "t_max_7": 1}, mapping=cosine_decay_steps_short),
    Mutant("cosine_alpha_absolute", optax.cosine_decay_schedule, "cosine_annealing_lr",
           {"past_t_max_eta_min": 1, "t_max_7": 8}, mapping=cosine_alpha_absolute),  # eta_min = 0: as optax's own
    Mutant("sgdr_periods_not_growing", optax.sgdr_schedule, "cosine_annealing_warm_restarts",
           {"t_mult_2_eta_min": 6, "t_0_4": None}, mapping=sgdr_periods_not_growing, variant="t_mult_ignored"),
    Mutant("milestones_as_boundaries", optax.piecewise_constant_schedule, "multi_step_lr",
           {"repeated_milestone": 7, "unsorted_default_gamma": None}, mapping=milestones_as_boundaries,
           variant="repeated_milestone_once"),
]
