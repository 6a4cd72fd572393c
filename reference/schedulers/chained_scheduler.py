"""ChainedScheduler: several schedulers on one optimizer, all stepped at every step, in order.

    construction: each sub-scheduler is built in turn; each one's initial step acts on the
                  lrs the previous ones left (ConstantLR scales them, ExponentialLR keeps them)
    step t:       for s in schedulers: lr <- s.get_lr(t, lr)          (each sub's last_epoch = t)

This composes because torch's schedulers step in chainable form: each one reads the lr the
previous one wrote. Closed forms do not compose: each would recompute from base_lr and the
last one would win, which is what stepping the subs with step(epoch) did before torch 1.4
(``closed_form_overwrites``).

``schedulers`` is a list of specs {"scheduler": <reference name>, "hp": {...}}; each must be
a scheduler written as a ``get_lr`` (lambda_lr, multiplicative_lr, step_lr, multi_step_lr,
constant_lr, linear_lr, exponential_lr, polynomial_lr, cosine_annealing_lr).
"""
from ._common import convert

TORCH = "torch.optim.lr_scheduler:ChainedScheduler"
DEFAULTS = dict(schedulers=None)
REQUIRED = ("schedulers",)
SUB_SCHEDULERS = ("schedulers",)  # hyperparameters holding sub-scheduler specs
CONSTRUCT_BY_KEYWORD = True  # ChainedScheduler(schedulers, optimizer=None): the optimizer is a keyword
QUANTITIES = ("lr",)
VARIANTS = {
    "torch": "torch.optim.lr_scheduler.ChainedScheduler",
    "closed_form_overwrites": "known bug (torch < 1.4): each sub-scheduler recomputes its closed form from "
                              "base_lr, so the last one overwrites the others",
    "reverse_order": "known bug: the sub-schedulers stepped last to first (differs where they do not commute)",
}
EQUIVALENT = ()


def sub_schedulers(specs, num):
    """[(module, hp)] with every hyperparameter filled in from the module's defaults."""
    from .. import schedulers

    out = []
    for spec in specs:
        module = schedulers.get(spec["scheduler"])
        if not hasattr(module, "get_lr"):
            raise ValueError(f"{spec['scheduler']} cannot be a sub-scheduler here: it has no get_lr")
        out.append((module, convert({**module.DEFAULTS, **spec["hp"]}, num)))
    return out


def restart(module, lrs, base_lrs, hp, num):
    """torch's ``_update_lr(epoch=0)`` (and ``step(epoch)``): the closed form where torch has one,
    else the chainable step at that epoch with ``initial`` False."""
    if hasattr(module, "closed_form"):
        return module.closed_form(0, base_lrs, hp, num=num)
    return module.get_lr(0, lrs, base_lrs, hp, initial=False, num=num)


def schedule(groups, steps, hp, variant="torch", num=float):
    subs = sub_schedulers(hp["schedulers"], num)
    base_lrs = [num(g["lr"]) for g in groups]  # initial_lr, set by the first sub-scheduler built
    lrs = list(base_lrs)
    for module, sub_hp in subs:
        lrs = module.get_lr(0, lrs, base_lrs, sub_hp, initial=True, num=num)
    rows = [lrs]
    order = subs[::-1] if variant == "reverse_order" else subs
    for epoch in range(1, steps + 1):
        for module, sub_hp in order:
            if variant == "closed_form_overwrites" and hasattr(module, "closed_form"):
                lrs = module.closed_form(epoch, base_lrs, sub_hp, num=num)
            else:
                lrs = module.get_lr(epoch, lrs, base_lrs, sub_hp, initial=False, num=num)
        rows.append(lrs)
    return {"lr": rows}
