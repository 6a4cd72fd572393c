"""The scheduler kind: a learning-rate scheduler implementation against a scheduler reference's goldens.

Each golden case builds an optimizer with two param groups (SGD with momentum, or Adam for
beta1 cycling), constructs the implementation on it as ``factory(optimizer, **hp,
**impl_args)`` (ChainedScheduler: ``factory(optimizer=optimizer, schedulers=[...])``), and
steps it ``steps`` times, each after an ``optimizer.step()`` as torch expects. The lr of every
group (and its momentum or beta1, where the scheduler cycles it) is read from the
optimizer's param groups after construction and after every ``step()``: what the optimizer
would use, not what the scheduler says it set. ReduceLROnPlateau gets the golden metric of
each step. Only hyperparameters that are required or differ from torch's defaults are passed;
named functions (lr_lambda, scale_fn) become the registered callables, and sub-scheduler
specs become torch's own schedulers, built on the same optimizer first, as a user would.
Another engine's schedule (an optax schedule factory) is driven by a schedule adapter
(optgold.adapters: SCHEDULES) that gives the same rows, the lr of each update; it is judged
and diagnosed here exactly as a torch scheduler is (AdaptedScheduleRun).

Tolerance (rounding-error model). torch computes lrs in Python floats whatever the
parameters' dtype, so the float64 unit roundoff u applies for every dtype. A step's value
comes out of a few roundings of terms no larger than the largest value the group's
schedule takes, M (base_lr, max_lr, eta_min, the previous lr); a chainable form carries
the previous step's error forward, so errors add up step by step:

    bound[t, g] = C * u * (t + 1) * M_g + 2 * certified golden error

C is the one margin of every tolerance (golden/dtypes.py). Calibration (tests/test_schedulers.py,
tests/test_schedulers_reference.py): every torch scheduler reproduces its golden bit for
bit, with float64 and float32 parameters alike, because the reference evaluates torch's own
expressions in torch's order (tolerance used: 0). The legitimate alternative forms differ
by rounding alone: torch's own closed forms (``step(epoch)``), SWALR's closed form,
MultiplicativeLR's product form and ReduceLROnPlateau's base_lr * factor ** k use at most
``CALIBRATED_WORST`` of the bound (the worst, 0.16, is CosineAnnealingLR past T_max, where
the chainable ratio divides two small numbers near the minimum). Every catalogued bug
(tests/scheduler_mutants) is off by 4e11 bounds or more, and an lr rounded to float32 by 3e7.
"""
import warnings
from dataclasses import dataclass

import numpy as np

from optgold import compare
from optgold.check import Judgement
from optgold.diagnose import decide
from optgold.golden.dtypes import C, UNIT_ROUNDOFF
from optgold.golden.schedules import OPTIMIZERS, load_cases
from optgold.kinds.base import Run
from optgold.loading import load_impl
from optgold.reference import schedulers
from optgold.reference.schedulers import functions

NAME = "scheduler"
TIMEOUT_PER_STEP = False
TIMEOUT = 30.0  # seconds per case
BUDGET = 300.0  # seconds for a whole check
MODE = "schedule"
MODES = (MODE,)
GRID_DTYPES = ("float64",)  # lrs are Python floats whatever the dtype
U = UNIT_ROUNDOFF["float64"]  # Python floats, whatever the parameters' dtype
CALIBRATED_WORST = 0.17  # worst |error| / bound of an equivalent form on the grid (measured: 0.162)


@dataclass(frozen=True)
class ScheduleDivergence:
    quantity: str  # "lr" or "momentum"
    step: int  # 0: right after construction; t: after the t-th step()
    group: int
    observed: float
    expected: float
    tolerance: float

    def describe(self):
        when = "at construction (step 0)" if self.step == 0 else f"at step {self.step}"
        return (f"{self.quantity} diverges {when}, param group {self.group}: observed {self.observed:.17g}, "
                f"expected {self.expected:.17g}, tolerance {self.tolerance:.3g}")


def torch_class(module):
    """The torch class a reference module names in TORCH ("module:Class")."""
    return load_impl(module.TORCH)


def build_optimizer(case, dtype="float64", device="cpu"):
    """The case's optimizer: two param groups with their own lr and momentum (or betas)."""
    import torch

    spec = OPTIMIZERS[case.optimizer]
    groups = []
    for k, group in enumerate(case.groups):
        param = torch.zeros(k + 2, dtype=getattr(torch, dtype), device=device, requires_grad=True)
        groups.append({"params": [param], **{key: tuple(v) if key == "betas" else v for key, v in group.items()}})
    defaults = {key: tuple(v) if key == "betas" else v for key, v in spec["defaults"].items()}
    return getattr(torch.optim, spec["cls"])(groups, **defaults)


def _passed(module, hp):
    """The hyperparameters handed to a constructor: required ones and those off torch's defaults."""
    return {k: v for k, v in hp.items() if k in module.REQUIRED or v != module.DEFAULTS[k]}


def _resolve(module, hp, optimizer):
    """Names of registered functions become the functions; sub-scheduler specs become torch's
    schedulers, built on the optimizer in order."""
    out = dict(hp)
    for key in getattr(module, "CALLABLES", ()):
        if out.get(key) is not None:
            out[key] = ([functions.get(n) for n in out[key]] if isinstance(out[key], list)
                        else functions.get(out[key]))
    for key in getattr(module, "SUB_SCHEDULERS", ()):
        if key in out:
            built = []
            for spec in out[key]:
                sub = schedulers.get(spec["scheduler"])
                built.append(torch_class(sub)(optimizer, **_resolve(sub, _passed(sub, spec["hp"]), optimizer)))
            out[key] = built
    return out


def impl_hyperparameters(case, optimizer, impl_args=None):
    """The keyword arguments the implementation is constructed with (sub-schedulers get built here)."""
    module = schedulers.get(case.reference)
    return {**_resolve(module, _passed(module, case.hp), optimizer), **(impl_args or {})}


def _read(optimizer, quantities):
    out = {}
    for name in quantities:
        if name == "lr":
            out[name] = [float(g["lr"]) for g in optimizer.param_groups]
        else:
            out[name] = [float(g["momentum"] if "momentum" in g else g["betas"][0]) for g in optimizer.param_groups]
    return out


def _shown(hp):
    """The constructor arguments as a message shows them: callables and schedulers by name."""
    plain = (int, float, str, list, tuple, bool, type(None))
    return {k: v if isinstance(v, plain) else getattr(v, "__name__", type(v).__name__) for k, v in hp.items()}


def bound(case, quantity):
    """(steps + 1, groups) tolerance: C u (t + 1) M_g + twice the golden's certified error."""
    expected = case.quantities[quantity]
    scale = np.abs(expected).max(axis=0, keepdims=True)
    steps = np.arange(1, expected.shape[0] + 1)[:, None]
    return C * U * steps * scale + 2 * case.golden_error.get(quantity, 0.0)


def judge(case, observed):
    """(first divergence or None, max abs error, tolerance used) over the rows observed."""
    first, worst_error, worst_used = None, 0.0, 0.0
    for quantity, expected in case.quantities.items():
        rows = observed.get(quantity)
        if rows is None or rows.size == 0:
            continue
        if rows.shape[1] != expected.shape[1]:
            return (ScheduleDivergence(f"{quantity} (param groups: {rows.shape[1]}, golden {expected.shape[1]})",
                                       0, -1, float("nan"), float("nan"), 0.0), float("inf"), float("inf"))
        n = min(len(rows), len(expected))
        error = np.abs(rows[:n] - expected[:n])
        tol = bound(case, quantity)[:n]
        ratio = np.nan_to_num(error / tol, nan=np.inf)
        worst_error = max(worst_error, float(np.nan_to_num(error, nan=np.inf).max()))
        worst_used = max(worst_used, float(ratio.max()))
        bad = np.nonzero((~(error <= tol)).any(axis=1))[0]
        if bad.size and (first is None or bad[0] < first.step):
            t = int(bad[0])
            g = int(np.argmax(ratio[t]))
            first = ScheduleDivergence(quantity, t, g, float(rows[t, g]), float(expected[t, g]), float(tol[t, g]))
    return first, worst_error, worst_used


def curves(case, observed):
    """compare.curve of each quantity, one column per param group, over the rows ``judge`` judges."""
    out = []
    for quantity, expected in case.quantities.items():
        rows = observed.get(quantity)
        if rows is None or rows.size == 0 or rows.shape[1] != expected.shape[1]:
            continue
        n = min(len(rows), len(expected))
        groups = expected.shape[1]
        out.append(compare.curve(quantity, rows[:n], expected[:n], bound(case, quantity)[:n], [(1,)] * groups,
                                 names=[f"group {g}" for g in range(groups)]))
    return out


def _golden_case_view(case):
    """The golden case as golden.schedules.run_reference takes it."""
    from optgold.golden.schedules import ScheduleCase

    metrics = None if case.metrics is None else tuple(float(m) for m in case.metrics)
    return ScheduleCase(case.id, case.reference, case.steps, case.hp, case.optimizer, metrics)


# A bug any scheduler can have, diagnosed for all: not a variant of one reference.
GROUP_0_FOR_ALL = ("group_0_for_all", "known bug: every param group follows group 0's schedule (group 0's base lr, "
                   "lr or per-group hyperparameter used for all groups)")


def _candidates(case):
    """(name, {quantity: rows}) for every named variant of the reference, and group 0 for all."""
    from optgold.golden.schedules import run_reference

    view = _golden_case_view(case)
    for variant in schedulers.get(case.reference).VARIANTS:
        try:
            yield variant, {q: np.array(r, dtype=np.float64) for q, r in run_reference(view, variant).items()}
        except (ArithmeticError, ValueError):
            continue  # a variant that breaks down on this case is no candidate
    yield GROUP_0_FOR_ALL[0], {q: np.repeat(rows[:, :1], rows.shape[1], axis=1) for q, rows in case.quantities.items()}


def variant_distances(case, observed):
    """{variant: max over steps, groups and quantities of |observed - variant| / M_g}."""
    distances = {}
    for variant, candidate in _candidates(case):
        worst = 0.0
        for q, rows in observed.items():
            n = min(len(rows), len(candidate[q]))
            if n == 0:
                continue
            scale = np.abs(case.quantities[q]).max(axis=0) + 1e-300
            worst = max(worst, float(np.nan_to_num(np.abs(rows[:n] - candidate[q][:n]) / scale, nan=np.inf).max()))
        distances[variant] = worst
    return distances


def diagnose(case, observed):
    descriptions = {**schedulers.get(case.reference).VARIANTS, GROUP_0_FOR_ALL[0]: GROUP_0_FOR_ALL[1]}
    return decide(variant_distances(case, observed), descriptions)


def reference_rows(case):
    """The float64 rows of the case's reference, recomputed (for tests and calibration)."""
    from optgold.golden.schedules import run_reference

    return {q: np.array(r) for q, r in run_reference(_golden_case_view(case)).items()}



def references():
    return schedulers.SCHEDULERS


def cases(ref_name, options):
    return load_cases(ref_name, options.golden_dir)


def modes(case, options):
    return (MODE,)


def not_applicable(case, mode, options):
    return None


def start(factory, case, mode, options, earlier):
    from optgold import adapters

    adapter = adapters.get(adapters.select(factory, options.adapter))
    if getattr(adapter, "SCHEDULES", False):  # a schedule adapter (optgold.adapters.optax_schedule)
        return AdaptedScheduleRun(factory, case, options, adapter)
    return ScheduleRun(factory, case, options)


def report_extra(options):
    return {}


def torch_implementations(ref_name):
    return [("", torch_class(schedulers.get(ref_name)), {})]


def listing():
    """The scheduler references: torch's arguments (required ones marked), variants, case count."""
    from rich.table import Column, Table

    from optgold.golden.schedules import GRID

    # fold, not "…": a name cut short in a narrow terminal reads as another name
    t = Table(*(Column(h, overflow="fold") for h in ("scheduler", "hyperparameters (torch defaults)", "variants",
                                                      "cases")))
    for name, module in schedulers.SCHEDULERS.items():
        hp = ", ".join(k if k in module.REQUIRED else f"{k}={v}" for k, v in module.DEFAULTS.items())
        t.add_row(name, hp, ", ".join(v for v in module.VARIANTS if v != "torch"), str(len(GRID.get(name, []))))
    return t


class ScheduleRun(Run):
    """Construct the implementation on the case's optimizer and step it; the rows read after each step."""
    RECORDED = ("hyperparameters", "rows")

    def __init__(self, factory, case, options):
        self.factory, self.case, self.options = factory, case, options
        self.quantities = tuple(case.quantities)
        self.rows = {q: [] for q in self.quantities}

    def construct(self):
        module = schedulers.get(self.case.reference)
        self.optimizer = build_optimizer(self.case, self.options.dtype, self.options.device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.hyperparameters = impl_hyperparameters(self.case, self.optimizer, self.options.impl_args)
            if getattr(module, "CONSTRUCT_BY_KEYWORD", False):
                self.scheduler = self.factory(optimizer=self.optimizer, **self.hyperparameters)
            else:
                self.scheduler = self.factory(self.optimizer, **self.hyperparameters)
        self._read()

    def _read(self):
        values = _read(self.optimizer, self.quantities)
        for q, row in values.items():
            self.rows[q].append(row)
        return np.concatenate([np.asarray(v, dtype=np.float64) for v in values.values()])

    def steps(self):
        metrics = self.case.metrics
        for t in range(1, self.case.steps + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.optimizer.step()
                if metrics is not None:
                    self.scheduler.step(float(metrics[t - 1]))
                else:
                    self.scheduler.step()
            yield self._read()

    def observed(self):
        return {q: np.array(r, dtype=np.float64) if r else np.zeros((0, 0)) for q, r in self.rows.items()}

    def judge(self):
        observed = self.observed()
        first, error, used = judge(self.case, observed)
        return Judgement(first, error, used, self.case.steps, curves=curves(self.case, observed))

    def diagnose(self, judgement):
        observed = self.observed()
        return diagnose(self.case, observed) if any(len(rows) for rows in observed.values()) else None

    def hyperparameters_shown(self):
        return str(_shown(self.hyperparameters or {}))


class AdaptedScheduleRun(ScheduleRun):
    """A schedule of another engine, driven by a schedule adapter (SCHEDULES), whose rows are the
    lrs it applies at each update (row t: the update after t scheduler steps, the goldens'
    convention); judged and diagnosed as a torch scheduler's run is."""

    def __init__(self, factory, case, options, adapter):
        super().__init__(factory, case, options)
        self.adapter = adapter

    def construct(self):
        self.driven = self.adapter(self.factory, self.case, self.options.impl_args)
        self.hyperparameters = self.driven.hyperparameters
        self.computed = self.driven.rows(self.case.steps, self.options.dtype)
        missing = sorted(set(self.quantities) - set(self.computed))
        if missing:
            raise NotImplementedError(f"the golden sets {', '.join(missing)} too; {type(self.driven).__name__} "
                                      f"gives {', '.join(sorted(self.computed))} alone")
        self._take(0)

    def _take(self, t):
        for q in self.quantities:
            self.rows[q].append([float(v) for v in self.computed[q][t]])
        return np.concatenate([np.asarray(self.computed[q][t], dtype=np.float64) for q in self.quantities])

    def steps(self):
        for t in range(1, self.case.steps + 1):
            yield self._take(t)

    def hyperparameters_shown(self):
        return str(self.hyperparameters or [])  # plain data, one dict of the factory's keywords per group

