"""One check: an implementation against every golden case of a reference."""
from dataclasses import asdict, dataclass, field

import numpy as np

from optgold import reference
from optgold.golden.load import load_cases
from optgold import compare, diagnose, runner, tolerance
from optgold.adapters import DTYPES, TorchOptimizerAdapter


@dataclass
class CaseResult:
    id: str
    status: str  # "passed" | "failed" | "skipped"
    mode: str
    dtype: str
    first_divergent_step: int = None
    max_abs_error: float = None
    tolerance_used: float = None  # worst |error| / tolerance over judged elements
    message: str = ""
    divergence: compare.Divergence = field(default=None, repr=False)
    diagnosis: diagnose.Diagnosis = field(default=None, repr=False)

    def as_json(self):
        keys = ("id", "status", "mode", "dtype", "first_divergent_step", "max_abs_error", "tolerance_used",
                "message")
        return {k: asdict(self)[k] for k in keys}


@dataclass
class CheckReport:
    reference: str
    impl: str
    cases: list

    @property
    def passed(self):
        statuses = {c.status for c in self.cases}
        return "failed" not in statuses and "passed" in statuses

    def as_json(self):
        return {"passed": self.passed, "reference": self.reference, "impl": self.impl,
                "cases": [c.as_json() for c in self.cases]}


def impl_hyperparameters(case, impl_args):
    """The case's hyperparameters that differ from torch's defaults, plus the fixed extras.

    Defaults are left out so that a custom class need not accept every torch flag.
    """
    defaults = reference.get(case.reference).DEFAULTS
    chosen = {k: v for k, v in case.hp.items() if v != defaults[k]}
    return {**chosen, **impl_args}


def _step_count_divergence(trajectory, shapes):
    for t, counts in enumerate(trajectory.step_counts, start=1):
        for k, count in enumerate(counts):
            if count is not None and count != t:
                return compare.Divergence("state step", t, k, (), float(count), float(t), 0.0)
    return None


def judge(case, trajectory, mode, dtype):
    """(first divergence or None, max abs error, tolerance used, last step judged)."""
    observed, state = trajectory.arrays()
    last = tolerance.free_run_horizon(case, dtype) if mode == "free" else case.steps
    judged = [("params", observed[:last + 1], case.params[:last + 1], tolerance.param_bound(case, dtype, mode), 0)]
    for name, rows in state.items():
        judged.append((name, rows[:last], case.state[name][:last], tolerance.state_bound(case, name, dtype, mode), 1))
    found = [compare.first_divergence(name, obs, exp, bound, case.shapes, first)
             for name, obs, exp, bound, first in judged]
    found = [d for d in found + [_step_count_divergence(trajectory, case.shapes)] if d is not None]
    first = min(found, key=lambda d: d.step) if found else None
    used = max(compare.tolerance_used(obs, exp, bound) for _, obs, exp, bound, _ in judged)
    return first, compare.max_abs_error(observed[:last + 1], case.params[:last + 1]), used, last


def check_case(factory, case, mode, dtype, device="cpu", impl_args=None, timeout=60.0, replay=None):
    """Run and judge one case in one mode. Returns (CaseResult, trajectory).

    ``replay`` is this case's earlier replay-mode (CaseResult, trajectory), if any: a
    failure is diagnosed on the replay trajectory, once per case.
    """
    result = CaseResult(case.id, "failed", mode, dtype)
    module = reference.get(case.reference)
    closure = getattr(module, "CLOSURE", False)
    if closure and mode == "replay":
        result.status = "skipped"
        result.message = ("gradient replay does not apply: the optimizer evaluates the closure at points of its "
                          "own choosing")
        return result, None
    hp = impl_hyperparameters(case, impl_args or {})
    with runner.default_dtype(DTYPES[dtype]):
        try:
            adapter = TorchOptimizerAdapter(factory, hp, case.params[0], case.shapes, dtype, device,
                                            sparse=getattr(module, "SPARSE_GRADIENTS", False),
                                            state_on_first=closure, groups=case.groups, schedule=case.schedule)
        except NotImplementedError as error:
            result.status, result.message = "skipped", f"not implemented: {error or 'config rejected'}"
            return result, None
        except Exception as error:
            result.message = (f"construction with {hp} raised {type(error).__name__}: {error} (an implementation "
                              "raises NotImplementedError for a config it does not support, to have it skipped)")
            return result, None
        trajectory = runner.run(adapter, case, mode, timeout, closure=closure)
    if trajectory.error_type is NotImplementedError and trajectory.error_step == 1:
        result.status, result.message = "skipped", f"not implemented: {trajectory.error}"
        return result, trajectory
    divergence, result.max_abs_error, result.tolerance_used, last = judge(case, trajectory, mode, dtype)
    result.divergence = divergence
    messages = []
    if divergence:
        result.first_divergent_step = divergence.step
        messages.append(divergence.describe())
    if trajectory.error:
        result.first_divergent_step = result.first_divergent_step or trajectory.error_step
        messages.append(trajectory.error)
    if messages:
        if replay is None or replay[1] is None:
            result.diagnosis = diagnose.diagnose(case, np.array(trajectory.params))
        else:
            earlier, replay_trajectory = replay
            result.diagnosis = earlier.diagnosis or diagnose.diagnose(case, np.array(replay_trajectory.params))
        if result.diagnosis:
            messages.append(result.diagnosis.describe())
    else:
        result.status = "passed"
        if mode == "free" and last < case.steps:
            messages.append(f"judged to step {last} of {case.steps}: beyond it, rounding alone can carry a "
                            f"correct run off the golden (chaotic dynamics); replay judges every step")
    result.message = "; ".join(messages)
    return result, trajectory


def check(factory, ref_name, impl="", dtype="float64", device="cpu", modes=runner.MODES, impl_args=None,
          golden_dir=None, timeout=60.0, progress=None):
    """Every case of a reference, replay first so that free-run failures can be diagnosed on it."""
    results = []
    for case in load_cases(ref_name, golden_dir):
        replay = None
        for mode in sorted(modes, key=lambda m: m != "replay"):
            result, trajectory = check_case(factory, case, mode, dtype, device, impl_args, timeout, replay)
            if mode == "replay":
                replay = (result, trajectory)
            results.append(result)
            if progress:
                progress(result)
    return CheckReport(ref_name, impl, results)
