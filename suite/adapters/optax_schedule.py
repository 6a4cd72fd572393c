"""The optax schedule adapter: an optax schedule factory (``optax:cosine_decay_schedule``) checked
against a torch scheduler reference's goldens by the scheduler kind.

A schedule adapter has a smaller protocol than an optimizer adapter (SCHEDULES marks it; the
scheduler kind's AdaptedScheduleRun drives it):

    Adapter(factory, case, impl_args)   one schedule per param group, built from the case's torch
                                        hyperparameters and the group's base lr; NotImplementedError
                                        for hyperparameters the factory cannot express
    hyperparameters                     the factory's keywords, one dict per group (for messages)
    rows(steps, dtype)                  {quantity: rows}: row t per group, what the update that
                                        follows t scheduler steps uses (the goldens' rows): its lr,
                                        and the momentum the schedule leaves as it was

Mapping (MAPPINGS: optax factory -> {torch scheduler reference: keywords of one group}), with b the
group's base lr:

    cosine_decay_schedule        CosineAnnealingLR  init_value=b, decay_steps=T_max, alpha=eta_min / b
    exponential_decay            ExponentialLR      init_value=b, transition_steps=1, decay_rate=gamma
                                 StepLR             init_value=b, transition_steps=step_size,
                                                    decay_rate=gamma, staircase=True
    linear_schedule              LinearLR           init_value=b start_factor, end_value=b end_factor,
                                                    transition_steps=total_iters
    polynomial_schedule          PolynomialLR       init_value=b, end_value=0, power, transition_steps=total_iters
    piecewise_constant_schedule  MultiStepLR        init_value=b, {milestone: gamma ** (times listed)}
                                 ConstantLR         init_value=b factor, {total_iters: 1 / factor}
    sgdr_schedule                CosineAnnealingWarmRestarts  one warmup_cosine_decay_schedule per period
                                                    (no warm-up, peak b, end eta_min, decay_steps T_i),
                                                    as many as the case's steps reach
    cosine_onecycle_schedule     OneCycleLR         transition_steps=total_steps, peak_value=max_lr,
                                                    pct_start, div_factor, final_div_factor

Step convention. A golden's row t is the lr after t calls of ``scheduler.step()``, which is the lr
of update t + 1. optax's count is the number of updates already applied, so that update runs at
count t. The adapter does not evaluate schedule(t) itself: it runs ``optax.sgd(learning_rate=
schedule)`` (jitted, as a training loop runs it) on one scalar parameter with gradient 1, and
reads the lr of each update as -update. Rows 0..steps are the lrs of updates 0..steps, each at
whatever count optax's own state holds then.

Precision: float64 runs enable jax_enable_x64 and float32 runs disable it, as the optimizer
adapter does. With x64 off, the schedule and the update are float32: an lr rounded to float32 is
what a float32 JAX program applies, and the scheduler kind's float64 judgement reports it.

``--impl-arg`` keywords go to every group's factory call under optax's own names (staircase=False).
A user's own schedule factory is mapped as the optax factory it wraps (functools.wraps) or, where
it has exactly the parameter names of one, as that one.
"""
import inspect
import sys

from optgold.adapters.optax import claims_by_module
from optgold.reference.errors import UsageError
from optgold.reference.schedulers._common import per_group


def _cosine_decay(hp, lr, steps, group, groups):
    if lr == 0:
        raise NotImplementedError("a base lr of 0: optax's alpha is eta_min relative to init_value")
    return dict(init_value=lr, decay_steps=hp["T_max"], alpha=hp["eta_min"] / lr)


def _exponential(hp, lr, steps, group, groups):
    return dict(init_value=lr, transition_steps=1, decay_rate=hp["gamma"])


def _step(hp, lr, steps, group, groups):
    return dict(init_value=lr, transition_steps=hp["step_size"], decay_rate=hp["gamma"], staircase=True)


def _linear(hp, lr, steps, group, groups):
    return dict(init_value=lr * hp["start_factor"], end_value=lr * hp["end_factor"],
                transition_steps=hp["total_iters"])


def _polynomial(hp, lr, steps, group, groups):
    return dict(init_value=lr, end_value=0.0, power=hp["power"], transition_steps=hp["total_iters"])


def _multi_step(hp, lr, steps, group, groups):
    milestones = list(hp["milestones"])
    return dict(init_value=lr, boundaries_and_scales={m: hp["gamma"] ** milestones.count(m)
                                                      for m in sorted(set(milestones))})


def _constant(hp, lr, steps, group, groups):
    if hp["total_iters"] == 0:
        raise NotImplementedError("total_iters=0: torch's ConstantLR then never restores the lr, which a "
                                  "boundary at count 0 cannot express")
    return dict(init_value=lr * hp["factor"], boundaries_and_scales={hp["total_iters"]: 1.0 / hp["factor"]})


def _warm_restarts(hp, lr, steps, group, groups):
    periods, T_i, covered = [], hp["T_0"], 0
    while covered <= steps:
        periods.append(dict(init_value=lr, peak_value=lr, warmup_steps=0, decay_steps=T_i, end_value=hp["eta_min"]))
        covered += T_i
        T_i *= hp["T_mult"]
    return dict(cosine_kwargs=periods)


def _one_cycle(hp, lr, steps, group, groups):
    cannot = [(hp["three_phase"], "three_phase=True: cosine_onecycle_schedule has two phases"),
              (hp["anneal_strategy"] != "cos", f"anneal_strategy={hp['anneal_strategy']!r}: "
                                               "cosine_onecycle_schedule anneals along a cosine"),
              (hp["cycle_momentum"], "cycle_momentum=True: an optax schedule sets the lr alone; torch's "
                                     "OneCycleLR also cycles momentum")]
    for refused, why in cannot:
        if refused:
            raise NotImplementedError(why)
    total = hp["total_steps"] if hp["total_steps"] is not None else hp["epochs"] * hp["steps_per_epoch"]
    return dict(transition_steps=total, peak_value=per_group(hp["max_lr"], groups)[group],
                pct_start=hp["pct_start"], div_factor=hp["div_factor"], final_div_factor=hp["final_div_factor"])


MAPPINGS = {
    "cosine_decay_schedule": {"cosine_annealing_lr": _cosine_decay},
    "exponential_decay": {"exponential_lr": _exponential, "step_lr": _step},
    "linear_schedule": {"linear_lr": _linear},
    "polynomial_schedule": {"polynomial_lr": _polynomial},
    "piecewise_constant_schedule": {"multi_step_lr": _multi_step, "constant_lr": _constant},
    "sgdr_schedule": {"cosine_annealing_warm_restarts": _warm_restarts},
    "cosine_onecycle_schedule": {"one_cycle_lr": _one_cycle},
}


def _parameters(function):
    try:
        return tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return None


def mapped_as(factory):
    """The name of the optax schedule factory ``factory`` is mapped as, or None.

    optax's own; a function wrapping one (functools.wraps); or one with exactly the parameter
    names of one (looked up only where optax is already imported: a torch class never imports it)."""
    optax = sys.modules.get("optax")
    if optax is None:
        return None
    unwrapped = inspect.unwrap(factory) if callable(factory) else factory
    for name in MAPPINGS:
        if unwrapped is getattr(optax, name, None) or factory is getattr(optax, name, None):
            return name
    if claims_by_module(factory):  # optax's own other functions: not a schedule factory
        return None
    own = _parameters(factory)
    return next((name for name in MAPPINGS if own is not None and own == _parameters(getattr(optax, name))), None)


def claims(factory):
    return mapped_as(factory) is not None


class OptaxScheduleAdapter:
    """One optax schedule per param group, read through optax.sgd's updates."""
    SCHEDULES = True
    KINDS = ("scheduler",)

    def __init__(self, factory, case, impl_args=None):
        name = mapped_as(factory)
        label = getattr(factory, "__name__", repr(factory))
        if name is None:
            raise UsageError(f"{label} is not an optax schedule factory the optax schedule adapter maps; it maps "
                             f"{', '.join(sorted(MAPPINGS))}")
        mapping = MAPPINGS[name].get(case.reference)
        if mapping is None:
            raise UsageError(f"optax.{name} is mapped to the scheduler reference(s) "
                             f"{', '.join(MAPPINGS[name])}, not {case.reference}")
        self.factory, self.case = factory, case
        groups = len(case.groups)
        self.hyperparameters = []
        for g, group in enumerate(case.groups):
            self.hyperparameters.append({**mapping(case.hp, group["lr"], case.steps, g, groups), **(impl_args or {})})

    def rows(self, steps, dtype="float64"):
        """{"lr": rows, "momentum": rows}: the lr optax.sgd applies at updates 0..steps of each group's
        schedule, and each group's momentum, which no lr schedule moves."""
        import jax
        import jax.numpy as jnp
        import optax

        jax.config.update("jax_enable_x64", dtype == "float64")
        param, grad = jnp.zeros((), dtype=jnp.dtype(dtype)), jnp.ones((), dtype=jnp.dtype(dtype))
        columns = []
        for kwargs in self.hyperparameters:
            transform = optax.sgd(learning_rate=self.factory(**kwargs))
            update = jax.jit(transform.update)
            state, column = transform.init(param), []
            for _ in range(steps + 1):
                updates, state = update(grad, state, param)
                column.append(-float(updates))
            columns.append(column)
        # an lr schedule leaves momentum (SGD's momentum, Adam's b1) as the optimizer was built
        held = [float(g["momentum"] if "momentum" in g else g["betas"][0]) for g in self.case.groups]
        return {"lr": [list(row) for row in zip(*columns)], "momentum": [list(held) for _ in range(steps + 1)]}


OptaxScheduleAdapter.claims = staticmethod(claims)
