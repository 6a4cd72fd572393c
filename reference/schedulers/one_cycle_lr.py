"""OneCycleLR (Smith & Topin, 2018): one warm-up to max_lr and one long anneal, with momentum
(SGD's momentum or Adam's beta1) moving the other way.

torch's algorithm. Per group: initial_lr = max_lr / div_factor, min_lr = initial_lr /
final_div_factor; construction sets momentum to max_momentum. total_steps, or epochs *
steps_per_epoch. Phases (end steps are floats, as torch computes them):

    two phases:   end 1 = pct_start * total_steps - 1      initial_lr -> max_lr   max_m -> base_m
                  end 2 = total_steps - 1                  max_lr -> min_lr       base_m -> max_m
    three_phase:  end 1 = pct_start * total_steps - 1      initial_lr -> max_lr   max_m -> base_m
                  end 2 = 2 * pct_start * total_steps - 2  max_lr -> initial_lr   base_m -> max_m
                  end 3 = total_steps - 1                  initial_lr -> min_lr   max_m -> max_m

At last_epoch t (0 at construction) the phase is the first with t <= its end (the last one
past it), pct = (t - phase start) / (phase end - phase start), and

    cos:    anneal(a, b, pct) = b + (a - b) / 2 * (cos(pi pct) + 1)
    linear: anneal(a, b, pct) = (b - a) * pct + a

torch lets t reach total_steps (one step past the last phase's end: pct > 1 extrapolates)
and raises beyond it.

optax's one-cycle (optax.cosine_onecycle_schedule, Smith's schedule as piecewise cosine
interpolation) puts the two phase ends at int(pct_start * total_steps) and total_steps, one
step later than torch's (its warm-up also one step longer where pct_start * total_steps is not
whole), and has neither three phases nor a linear anneal: the variant "optax_onecycle".
"""
from ._common import convert, cos, per_group, pi

TORCH = "torch.optim.lr_scheduler:OneCycleLR"
DEFAULTS = dict(max_lr=None, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                div_factor=25.0, final_div_factor=1e4, three_phase=False)
REQUIRED = ("max_lr",)
QUANTITIES = ("lr", "momentum")
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.OneCycleLR",
    "phase_end_off_by_one": "known bug: the warm-up ends at pct_start * total_steps, not pct_start * total_steps - 1",
    "min_lr_from_max_lr": "known bug: min_lr = max_lr / final_div_factor instead of initial_lr / final_div_factor",
    "momentum_not_inverted": "known bug: each phase anneals momentum from its end value to its start value, so "
                             "momentum follows the lr's direction",
    "three_phase_ignored": "known bug: three_phase has no effect (always two phases)",
    "optax_onecycle": "optax.cosine_onecycle_schedule: two cosine phases ending at int(pct_start * total_steps) "
                      "and total_steps (torch: pct_start * total_steps - 1 and total_steps - 1)",
}
EQUIVALENT = ()


def _phases(total_steps, pct_start, three_phase, shift, optax=False):
    """[(end step, lr from, lr to, momentum from, momentum to)], end steps in the number type of pct_start."""
    if optax:
        warm_up = int(float(pct_start) * total_steps)  # optax's boundary: an int, from a float product
        return [(type(pct_start)(warm_up), "initial_lr", "max_lr", "max_m", "base_m"),
                (type(pct_start)(total_steps), "max_lr", "min_lr", "base_m", "max_m")]
    if three_phase:
        return [(pct_start * total_steps - 1 + shift, "initial_lr", "max_lr", "max_m", "base_m"),
                (2 * pct_start * total_steps - 2, "max_lr", "initial_lr", "base_m", "max_m"),
                (total_steps - 1, "initial_lr", "min_lr", "max_m", "max_m")]
    return [(pct_start * total_steps - 1 + shift, "initial_lr", "max_lr", "max_m", "base_m"),
            (total_steps - 1, "max_lr", "min_lr", "base_m", "max_m")]


def schedule(groups, steps, hp, variant="torch", num=float):
    total_steps = hp["total_steps"] if hp["total_steps"] is not None else hp["epochs"] * hp["steps_per_epoch"]
    if steps > total_steps:
        raise ValueError(f"OneCycleLR steps at most total_steps = {total_steps} times, not {steps}")
    optax = variant == "optax_onecycle"
    three_phase = hp["three_phase"] and variant not in ("three_phase_ignored", "optax_onecycle")
    shift = 1 if variant == "phase_end_off_by_one" else 0
    decisions = _phases(total_steps, float(hp["pct_start"]), three_phase, shift, optax)  # floats, as torch
    hp = convert(hp, num)
    values = _phases(total_steps, hp["pct_start"], three_phase, shift, optax)
    n = len(groups)
    PI = pi(num)

    def anneal(start, end, pct):
        if hp["anneal_strategy"] == "cos" or optax:
            return end + (start - end) / 2.0 * (cos(PI * pct) + 1)
        return (end - start) * pct + start

    per = []
    for max_lr, base_m, max_m in zip(per_group(hp["max_lr"], n), per_group(hp["base_momentum"], n),
                                     per_group(hp["max_momentum"], n)):
        initial_lr = max_lr / hp["div_factor"]
        min_lr = (max_lr if variant == "min_lr_from_max_lr" else initial_lr) / hp["final_div_factor"]
        per.append(dict(initial_lr=initial_lr, max_lr=max_lr, min_lr=min_lr, base_m=base_m, max_m=max_m))
    cycling = hp["cycle_momentum"]
    momenta = [g["max_m"] for g in per] if cycling else [num(g["momentum"]) for g in groups]
    rows = {"lr": [], "momentum": []}
    for t in range(steps + 1):
        lrs = []
        for k, g in enumerate(per):
            start_value = num(0)
            for i, ((end_step, lr_a, lr_b, m_a, m_b), (end_value, *_)) in enumerate(zip(decisions, values)):
                if t <= end_step or i == len(decisions) - 1:
                    pct = (t - start_value) / (end_value - start_value)
                    lrs.append(anneal(g[lr_a], g[lr_b], pct))
                    if cycling and variant == "momentum_not_inverted":
                        momenta[k] = anneal(g[m_b], g[m_a], pct)
                    elif cycling:
                        momenta[k] = anneal(g[m_a], g[m_b], pct)
                    break
                start_value = end_value
        rows["lr"].append(lrs)
        rows["momentum"].append(list(momenta))
    return rows
