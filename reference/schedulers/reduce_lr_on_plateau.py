"""ReduceLROnPlateau: cut the lrs by factor when a metric has stopped improving.

Driven by a metric per step (the golden stores the sequence). torch's algorithm:

    best = +inf (mode min) or -inf (mode max); num_bad = 0; cooldown_counter = 0
    per step, with metric a:
        better = a < best * (1 - threshold)      mode min, threshold_mode rel
                 a < best - threshold            mode min, abs
                 a > best * (1 + threshold)      mode max, rel
                 a > best + threshold            mode max, abs
        if better: best = a; num_bad = 0   else: num_bad += 1
        if cooldown_counter > 0: cooldown_counter -= 1; num_bad = 0      (bad epochs ignored)
        if num_bad > patience:
            for each group: new = max(lr * factor, min_lr[group]); if lr - new > eps: lr = new
            cooldown_counter = cooldown; num_bad = 0

There is no initial step: row 0 is the lrs as the optimizer had them. Decisions are taken
on floats, as torch takes them; only the lrs are computed in the number type.
"""
import math

from ._common import convert, per_group

TORCH = "torch.optim.lr_scheduler:ReduceLROnPlateau"
DEFAULTS = dict(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0,
                min_lr=0, eps=1e-8)
REQUIRED = ()
METRICS = True  # step(metric): the golden holds the metric of every step
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.ReduceLROnPlateau",
    "threshold_modes_swapped": "known bug: rel and abs threshold modes swapped",
    "patience_off_by_one": "known bug: reduces once num_bad_epochs >= patience, one bad epoch early",
    "cooldown_ineffective": "known bug: cooldown has no effect (its counter not set after a reduction, or bad "
                            "epochs during it not ignored: the two are the same)",
    "eps_ignored": "known bug: every reduction applied, however small",
    "closed_form": "base_lr * factor ** reductions, clamped at min_lr: the same up to rounding",
}
EQUIVALENT = ("closed_form",)


def is_better(a, best, mode, threshold, threshold_mode):
    if mode == "min" and threshold_mode == "rel":
        return a < best * (1.0 - threshold)
    if mode == "min":
        return a < best - threshold
    if threshold_mode == "rel":
        return a > best * (threshold + 1.0)
    return a > best + threshold


def schedule(groups, steps, hp, variant="torch", num=float, metrics=()):
    mode, patience, cooldown = hp["mode"], hp["patience"], hp["cooldown"]
    threshold, threshold_mode, eps = float(hp["threshold"]), hp["threshold_mode"], float(hp["eps"])
    if variant == "threshold_modes_swapped":
        threshold_mode = {"rel": "abs", "abs": "rel"}[threshold_mode]
    factor = convert(hp["factor"], num)
    lrs = [num(g["lr"]) for g in groups]
    min_lrs = convert(per_group(hp["min_lr"], len(groups)), num)
    reductions = [0] * len(groups)
    best, num_bad, cooldown_counter = (math.inf if mode == "min" else -math.inf), 0, 0
    rows = [list(lrs)]
    for t in range(steps):
        current = float(metrics[t])
        if is_better(current, best, mode, threshold, threshold_mode):
            best, num_bad = current, 0
        else:
            num_bad += 1
        if cooldown_counter > 0:
            cooldown_counter -= 1
            if variant != "cooldown_ineffective":
                num_bad = 0
        if num_bad > patience or (variant == "patience_off_by_one" and num_bad >= patience):
            for i, (lr, min_lr) in enumerate(zip(lrs, min_lrs)):
                new_lr = max(lr * factor, min_lr)
                if float(lr - new_lr) > eps or (variant == "eps_ignored" and float(lr - new_lr) > 0):
                    reductions[i] += 1
                    if variant == "closed_form":
                        new_lr = max(num(groups[i]["lr"]) * factor ** reductions[i], min_lr)
                    lrs[i] = new_lr
            cooldown_counter, num_bad = cooldown, 0
        rows.append(list(lrs))
    return {"lr": rows}
