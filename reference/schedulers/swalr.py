"""SWALR (torch.optim.swa_utils): anneal each group's lr from where it is to swa_lr over
anneal_epochs steps, then hold swa_lr.

torch computes it recursively: at each step it recovers the lr it started from out of the
current lr, then mixes again. With s the scheduler's step count (0 at construction; at
least 1 when anneal_epochs = 0) and A = max(1, anneal_epochs):

    alpha(u) = (1 - cos(pi u)) / 2  (cos)   or   u  (linear);   u clamped to [0, 1]
    prev     = swa_lr                                   if alpha((s - 1) / A) == 1
               (lr - alpha((s - 1) / A) swa_lr) / (1 - alpha((s - 1) / A))   otherwise
    lr       = swa_lr * alpha(s / A) + prev * (1 - alpha(s / A))

Closed form: swa_lr * alpha(s / A) + lr_0 * (1 - alpha(s / A)), with lr_0 the lr at
construction; the same up to rounding.
"""
from ._common import convert, cos, per_group, pi

TORCH = "torch.optim.swa_utils:SWALR"
DEFAULTS = dict(swa_lr=None, anneal_epochs=10, anneal_strategy="cos")
REQUIRED = ("swa_lr",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.swa_utils.SWALR (recursive)",
    "closed_form": "swa_lr * alpha(s / A) + lr_0 * (1 - alpha(s / A)): the same up to rounding",
    "anneal_one_late": "known bug: the anneal counts from the first step(), not from construction",
    "strategy_swapped": "known bug: cos anneals linearly and linear along the cosine",
}
EQUIVALENT = ("closed_form",)


def schedule(groups, steps, hp, variant="torch", num=float):
    hp = convert(hp, num)
    A = hp["anneal_epochs"]
    swa_lrs = per_group(hp["swa_lr"], len(groups))
    cosine = (hp["anneal_strategy"] == "cos") != (variant == "strategy_swapped")
    PI = pi(num)

    def alpha(u):
        return (1 - cos(PI * u)) / 2 if cosine else u

    def clamp(s):
        return max(0, min(1, num(s) / max(1, A)))

    lr_0 = [num(g["lr"]) for g in groups]
    lrs, rows = list(lr_0), []
    for count in range(steps + 1):
        s = count - 1 if variant == "anneal_one_late" else count
        if A == 0:
            s = max(1, s)
        prev_alpha, a = alpha(clamp(s - 1)), alpha(clamp(s))
        if variant == "closed_form":
            lrs = [swa * a + lr * (1 - a) for swa, lr in zip(swa_lrs, lr_0)]
        else:
            prev = [swa if float(prev_alpha) == 1 else (lr - prev_alpha * swa) / (1 - prev_alpha)
                    for lr, swa in zip(lrs, swa_lrs)]
            lrs = [swa * a + p * (1 - a) for swa, p in zip(swa_lrs, prev)]
        rows.append(list(lrs))
    return {"lr": rows}
