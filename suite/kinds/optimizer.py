"""The optimizer kind: an implementation along the quadratic and Rosenbrock golden cases of a reference.

free:   the implementation's own parameters get their gradient from the problem.
replay: step t gets the golden gradient g_t, whatever the parameters are, which
        isolates the update arithmetic from the problem's dynamics.

Parameters, torch-named state and step counts are judged at every step within the
tolerance model of optgold.tolerance; a failure is diagnosed on the replay run, once
per case.
"""
import numpy as np
import torch

from optgold import adapters, compare, diagnose, hyperparameters, reference, scenarios, tolerance
from optgold.check import ConfigMismatch, Judgement
from optgold.golden.load import load_cases
from optgold.kinds.base import Run
from optgold.problems import TorchProblem
from optgold.reference import capabilities

NAME = "optimizer"
TIMEOUT_PER_STEP = False
TIMEOUT = 30.0  # seconds per case and mode; the slowest correct case takes under 2 s
BUDGET = 300.0  # seconds for a whole check
MODES = ("replay", "free")  # replay first: a free-run failure is diagnosed on the replay run
GRID_DTYPES = ("float64", "float32")
SCENARIOS = ("plain", "resume")  # both judged against the plain goldens


def references():
    return reference.OPTIMIZERS


def cases(ref_name, options):
    return load_cases(ref_name, options.golden_dir)


def modes(case, options):
    chosen = options.modes or MODES
    return tuple(sorted(chosen, key=lambda m: m != "replay"))


def not_applicable(case, mode, options):
    if mode == "replay" and capabilities.of(reference.get(case.reference)).closure:
        return "gradient replay does not apply: the optimizer evaluates the closure at points of its own choosing"
    return None


def start(factory, case, mode, options, earlier):
    return OptimizerRun(factory, case, mode, options, earlier.get("replay"))


def report_extra(options):
    return {}


def torch_implementations(ref_name):
    """(path, torch class, its keywords) for each path torch has here (none without a torch class)."""
    from optgold.torch_paths import available_paths, torch_class

    cls = torch_class(reference.get(ref_name))
    return [] if cls is None else [(path, cls, kwargs) for path, kwargs in available_paths(cls).items()]


def listing():
    from rich.table import Column, Table

    from optgold.golden.grid import GRID

    # fold, not "…": a name cut short in a narrow terminal reads as another name
    t = Table(*(Column(h, overflow="fold") for h in ("reference", "hyperparameters (torch defaults)", "variants",
                                                      "cases")))
    for name, module in references().items():
        hp = ", ".join(f"{k}={v}" for k, v in module.DEFAULTS.items())
        t.add_row(name, hp, ", ".join(v for v in module.VARIANTS if v != "torch"), str(len(GRID.get(name, []))))
    return t


def case_hyperparameters(case, factory, impl_args):
    """The keywords an implementation of ``case`` is built with (hyperparameters.Skip if it cannot take them)."""
    return hyperparameters.construction_kwargs(factory, case.hp, reference.get(case.reference).DEFAULTS,
                                               impl_args or {}, getattr(case, "groups", ()))


def check_configuration(adapter, case):
    """ConfigMismatch if the implementation holds a case hyperparameter with another value."""
    groups = adapter.hyperparameter_groups()
    if groups is None:  # nothing to read back
        return
    found = hyperparameters.mismatches(groups, case.hp, getattr(case, "groups", ()))
    if found:
        raise ConfigMismatch("; ".join(found))


class OptimizerRun(Run):
    RECORDED = ("hyperparameters", "params", "state", "counts")

    def __init__(self, factory, case, mode, options, replay):
        self.factory, self.case, self.mode, self.options, self.replay = factory, case, mode, options, replay
        module = reference.get(case.reference)
        self.closure = capabilities.of(module).closure
        self.sparse = capabilities.of(module).sparse_gradients
        self.params, self.state, self.counts = [], {}, []

    def construct(self):
        self.hyperparameters = case_hyperparameters(self.case, self.factory, self.options.impl_args)
        self.adapter = adapters.get(self.options.adapter)(
            self.factory, self.hyperparameters, self.case.params[0], self.case.shapes, self.options.dtype,
            self.options.device, sparse=self.sparse, state_on_first=self.closure, groups=self.case.groups,
            schedule=self.case.schedule)
        check_configuration(self.adapter, self.case)
        self.params.append(self.adapter.flat_params())

    def steps(self):
        case, adapter = self.case, self.adapter
        problem = TorchProblem(case.problem, case.negate) if self.mode == "free" else None
        scenario = scenarios.get(self.options.scenario)
        for t in range(case.steps):
            scenario.before_step(adapter, t + 1, case)
            if self.closure:
                adapter.step_closure(lambda x, t=t: tuple(v.numpy() for v in
                                                           problem.loss_and_gradient(torch.from_numpy(x), t)))
            elif self.mode == "replay":
                adapter.step(case.grads[t])
            else:
                adapter.step(problem.gradient(torch.from_numpy(self.params[-1]), t).numpy())
            self.params.append(adapter.flat_params())
            for name, values in adapter.flat_state(case.state).items():
                self.state.setdefault(name, []).append(values)
            self.counts.append(adapter.step_counts())
            yield self.params[-1]

    def judge(self):
        case, dtype = self.case, self.options.dtype
        observed = np.array(self.params)
        state = {k: np.array(v) for k, v in self.state.items()}
        last = tolerance.free_run_horizon(case, dtype) if self.mode == "free" else case.steps
        judged = [("params", observed[:last + 1], case.params[:last + 1],
                   tolerance.param_bound(case, dtype, self.mode), 0)]
        for name, rows in state.items():
            judged.append((name, rows[:last], case.state[name][:last],
                           tolerance.state_bound(case, name, dtype, self.mode), 1))
        found = [compare.first_divergence(name, obs, exp, bound, case.shapes, first)
                 for name, obs, exp, bound, first in judged]
        found = [d for d in found + [self._step_count_divergence()] if d is not None]
        notes = []
        if self.mode == "free" and last < case.steps:
            notes.append(f"judged to step {last} of {case.steps}: beyond it, rounding alone can carry a correct run "
                         "off the golden (chaotic dynamics); replay judges every step")
        return Judgement(min(found, key=lambda d: d.step) if found else None,
                         compare.max_abs_error(observed[:last + 1], case.params[:last + 1]),
                         max(compare.tolerance_used(obs, exp, bound) for _, obs, exp, bound, _ in judged), last, notes)

    def _step_count_divergence(self):
        for t, counts in enumerate(self.counts, start=1):
            for k, count in enumerate(counts):
                if count is not None and count != t:
                    return compare.Divergence("state step", t, k, (), float(count), float(t), 0.0)
        return None

    def diagnose(self, judgement):
        run = self.replay if self.replay is not None else self
        if len(run.params) < 2:
            return None
        if run is not self and getattr(run, "diagnosis", None) is not None:
            return run.diagnosis
        self.diagnosis = diagnose.diagnose(self.case, np.array(run.params))
        return self.diagnosis
