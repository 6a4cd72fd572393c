"""CosineAnnealingWarmRestarts (SGDR, Loshchilov & Hutter, 2017): cosine annealing from base_lr
to eta_min over T_i steps, then a restart; each period T_mult times longer than the last.

torch's algorithm (step() without an epoch):

    T_cur = 0, T_i = T_0                                    (the initial step)
    each step: T_cur += 1; if T_cur >= T_i: T_cur -= T_i; T_i *= T_mult
    lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

Not chainable: every lr is computed from base_lr. (torch's step(epoch) path finds the
period with a float logarithm, int(log(epoch / T_0 * (T_mult - 1) + 1, T_mult)), which can
land one period short at exact powers; the grid's stepping does not use it.)
"""
from ._common import convert, cos, pi

TORCH = "torch.optim.lr_scheduler:CosineAnnealingWarmRestarts"
DEFAULTS = dict(T_0=None, T_mult=1, eta_min=0.0)
REQUIRED = ("T_0",)
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts",
    "t_mult_ignored": "known bug: every period lasts T_0 steps",
    "restart_one_late": "known bug: restarts when T_cur > T_i, so each period reaches eta_min and stays a step",
    "eta_min_ignored": "known bug: annealed to zero, eta_min left out",
}
EQUIVALENT = ()


def schedule(groups, steps, hp, variant="torch", num=float):
    hp = convert(hp, num)
    base_lrs = [num(g["lr"]) for g in groups]
    eta_min = num(0) if variant == "eta_min_ignored" else hp["eta_min"]
    T_mult = 1 if variant == "t_mult_ignored" else hp["T_mult"]
    T_cur, T_i, PI = 0, hp["T_0"], pi(num)
    rows = []
    for t in range(steps + 1):
        if t > 0:
            T_cur += 1
            if T_cur > T_i or (T_cur == T_i and variant != "restart_one_late"):
                T_cur -= T_i
                T_i *= T_mult
        rows.append([eta_min + (base_lr - eta_min) * (1 + cos(PI * T_cur / T_i)) / 2 for base_lr in base_lrs])
    return {"lr": rows}
