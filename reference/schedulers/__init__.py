"""Reference learning-rate schedulers in plain Python (standard library only).

One module per torch scheduler, named in snake_case after its class. Each defines

- ``TORCH``: the class whose documented algorithm it follows ("module:Class");
- ``DEFAULTS``: torch's constructor arguments (``last_epoch`` left out: runs start fresh),
  with None where torch requires a value, and ``REQUIRED``: those;
- ``VARIANTS``: "torch" first, then named alternatives and known bugs, which diagnosis
  ranks; ``EQUIVALENT`` names the variants equal to torch up to rounding (closed forms of
  torch's chainable steps), which a correct check must accept;
- ``QUANTITIES``: what it sets per param group, ("lr",) or ("lr", "momentum");
- ``schedule(groups, steps, hp, variant="torch", num=float)``: {quantity: rows}, row t per
  group after t calls of step() (row 0 right after construction). ``groups`` are the
  optimizer's param groups as {"lr": ..., "momentum": ...} (momentum is SGD's momentum or
  Adam's beta1). ReduceLROnPlateau (``METRICS = True``) also takes ``metrics``, one per step.

Callables (LambdaLR's lr_lambda, CyclicLR's scale_fn) are named in ``functions``; sub-scheduler
specs (ChainedScheduler, SequentialLR) are {"scheduler": name, "hp": {...}}.
"""
from .. import UnknownReference
from . import (chained_scheduler, constant_lr, cosine_annealing_lr, cosine_annealing_warm_restarts,
                cyclic_lr, exponential_lr, functions, lambda_lr, linear_lr, multi_step_lr,
                multiplicative_lr, one_cycle_lr, polynomial_lr, reduce_lr_on_plateau, sequential_lr,
                step_lr, swalr)

SCHEDULERS = {module.__name__.rsplit(".", 1)[1]: module for module in (
    lambda_lr, multiplicative_lr, step_lr, multi_step_lr, constant_lr, linear_lr, exponential_lr, polynomial_lr,
    cosine_annealing_lr, chained_scheduler, sequential_lr, reduce_lr_on_plateau, cyclic_lr, one_cycle_lr,
    cosine_annealing_warm_restarts, swalr)}


class UnknownScheduler(UnknownReference):
    """An unknown scheduler name (an UnknownReference, so the command line treats it alike)."""

    def __str__(self):
        return f"unknown scheduler reference {self.args[0]!r}; known: {', '.join(sorted(SCHEDULERS))}"


def get(name):
    """The reference scheduler module called ``name``."""
    try:
        return SCHEDULERS[name]
    except (KeyError, TypeError):
        raise UnknownScheduler(name) from None


def schedule(name, groups, steps, hp, variant="torch", num=float, metrics=None):
    """{quantity: rows} of the named scheduler; ``hp`` may leave out arguments at their defaults."""
    module = get(name)
    hp = {**module.DEFAULTS, **hp}
    missing = [k for k in module.REQUIRED if hp[k] is None]
    if missing:
        raise ValueError(f"{name}: required hyperparameters missing: {', '.join(missing)}")
    if variant not in module.VARIANTS:
        raise ValueError(f"{name}: unknown variant {variant!r}; known: {', '.join(module.VARIANTS)}")
    extra = {"metrics": metrics} if getattr(module, "METRICS", False) else {}
    return module.schedule(groups, steps, hp, variant=variant, num=num, **extra)
