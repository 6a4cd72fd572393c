"""One check: an implementation against golden cases, whatever kind of check they are.

Every kind (optgold.kinds) runs its cases through ``check_case``, which holds the rules
they share, once:

- the skip rule: a configuration the implementation rejects (NotImplementedError while it
  is built or on its first step, or a hyperparameter it cannot take) is skipped with the
  reason, never passed;
- the failure capture: an implementation that raises, hangs past the timeout or produces
  a non-finite value fails the case at that step, and the run stops there;
- the conclusion: the judgement's first divergence, the failure, the diagnosis, and the
  notes of a passing case, in one message.
"""
from dataclasses import asdict, dataclass, field

import numpy as np

from optgold.hyperparameters import Skip
from optgold.runner import CaseTimeout, default_dtype, time_limit


@dataclass
class Options:
    """How a check runs; every kind reads the fields it needs."""
    dtype: str = "float64"
    device: str = "cpu"
    impl_args: dict = field(default_factory=dict)  # fixed extra keywords of every construction
    timeout: float = 60.0  # seconds per case (per step where the kind says so)
    golden_dir: str = None
    adapter: str = "torch"  # optgold.adapters.ADAPTERS
    scenario: str = "plain"  # optgold.scenarios.SCENARIOS: what happens around the steps
    modes: tuple = None  # None: every mode of the kind
    cifar_dir: str = None  # network kind: the data
    steps: int = None  # network kind: stop early (tests, benchmarks)
    stop_at_divergence: bool = False  # network kind: end the run at its first divergence
    free_run: bool = False  # network kind: also train IMPL on its own gradients (shown, not judged)
    progress: object = None  # network kind: progress(case, step) after each step


@dataclass
class Judgement:
    """What a kind's judge found in one run."""
    divergence: object = None  # the first divergence (.step, .describe()), or None
    max_abs_error: float = 0.0
    tolerance_used: float = 0.0  # worst |error| / tolerance over judged elements
    last_step: int = None  # the last step judged
    notes: list = field(default_factory=list)  # said of a passing case (a horizon, a shortened run)


@dataclass
class Failure:
    """How the implementation's own run ended early: raised, timed out, or went non-finite."""
    message: str
    type: type
    step: int  # 0: while it was built


class SetupError(Exception):
    """What the case sets up around the implementation failed against it (a scheduler it attaches);
    the message says what, and is reported as it is."""


class ConfigMismatch(Exception):
    """The implementation holds a case hyperparameter with another value than the case sets."""


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
    hyperparameters: dict = None  # what the implementation was built with
    divergence: object = field(default=None, repr=False)
    diagnosis: object = field(default=None, repr=False)
    details: dict = field(default_factory=dict, repr=False)  # kind-specific fields of the JSON report

    def as_json(self):
        keys = ("id", "status", "mode", "dtype", "first_divergent_step", "max_abs_error", "tolerance_used",
                "message")
        out = {k: asdict(self)[k] for k in keys}
        out["hyperparameters"] = _plain(self.hyperparameters)
        return {**out, **self.details}


def _plain(hp):
    if hp is None:
        return None
    return {k: v if isinstance(v, (int, float, str, bool, list, tuple, type(None))) else
            getattr(v, "__name__", type(v).__name__) for k, v in hp.items()}


@dataclass
class CheckReport:
    reference: str
    impl: str
    cases: list
    kind: str = "optimizer"
    extra: dict = field(default_factory=dict)  # kind-specific fields of the JSON report

    @property
    def passed(self):
        statuses = {c.status for c in self.cases}
        return "failed" not in statuses and "passed" in statuses

    def as_json(self):
        return {"passed": self.passed, "kind": self.kind, "reference": self.reference, "impl": self.impl,
                **self.extra, "cases": [c.as_json() for c in self.cases]}


def _finite(values):
    return values is None or bool(np.isfinite(np.asarray(values, dtype=np.float64)).all())


def drive(run, timeout, per_step=False):
    """Build and step the run; returns the Failure that ended it early, or None.

    ``timeout`` limits the whole run, or with ``per_step`` the construction and each step."""
    case_seconds, step_seconds = (None, timeout) if per_step else (timeout, None)
    step = 0
    try:
        with time_limit(case_seconds):
            with time_limit(step_seconds):
                run.construct()
            steps = run.steps()
            while True:
                step += 1
                with time_limit(step_seconds):
                    values = next(steps, StopIteration)
                if values is StopIteration:
                    return None
                if not _finite(values):
                    return Failure(f"non-finite values at step {step}", FloatingPointError, step)
    except CaseTimeout as error:
        return Failure(f"timed out at step {step}: {error}", CaseTimeout, step)
    except (Skip, ConfigMismatch):
        raise
    except SetupError as error:
        return Failure(str(error), SetupError, step)
    except Exception as error:  # the implementation's own failure is a result, not a crash
        if step == 0:
            return Failure(f"construction with {run.hyperparameters_shown()} raised {type(error).__name__}: {error} "
                           "(an implementation raises NotImplementedError for a config it does not support, to "
                           "have it skipped)", type(error), 0)
        return Failure(f"raised {type(error).__name__} at step {step}: {error}{_origin(error)}", type(error), step)


def _origin(error):
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def check_case(kind, factory, case, mode, options=None, earlier=None):
    """Run and judge one case in one mode; never raises for the implementation's own errors.

    ``earlier``: {mode: run} of this case's modes already run (a kind may diagnose on them).
    Returns (CaseResult, run); run is None where nothing ran.
    """
    options = options or Options()
    result = CaseResult(case.id, "failed", mode_label(mode, options), options.dtype)
    reason = kind.not_applicable(case, mode, options) or _scenario_reason(kind, case, options)
    if reason:
        result.status, result.message = "skipped", reason
        return result, None
    run = kind.start(factory, case, mode, options, earlier or {})
    try:
        with default_dtype(options.dtype):
            failure = drive(run, options.timeout, getattr(kind, "TIMEOUT_PER_STEP", False))
    except Skip as skip:
        result.status, result.message = "skipped", str(skip)
        return result, None
    except ConfigMismatch as mismatch:
        result.hyperparameters = run.hyperparameters
        result.message = (f"configuration mismatch: {mismatch} (built with {run.hyperparameters_shown()}); the "
                          "implementation does not hold the case's hyperparameters, so its run was not judged")
        return result, None
    result.hyperparameters = run.hyperparameters
    if failure and failure.type is NotImplementedError and failure.step <= 1:
        result.status, result.message = "skipped", f"not implemented: {failure.message}"
        return result, run
    _conclude(result, run, run.judge(), failure)
    return result, run


def mode_label(mode, options):
    """How a result names its mode: "replay", or "replay+resume" under a scenario other than plain."""
    return mode if options.scenario == "plain" else f"{mode}+{options.scenario}"


def _scenario_reason(kind, case, options):
    from optgold import scenarios

    if options.scenario not in getattr(kind, "SCENARIOS", ("plain",)):
        return f"the {kind.NAME} kind has no {options.scenario!r} scenario"
    return scenarios.get(options.scenario).applies(case)


def _conclude(result, run, judgement, failure):
    result.divergence = judgement.divergence
    result.max_abs_error, result.tolerance_used = judgement.max_abs_error, judgement.tolerance_used
    messages = []
    if judgement.divergence:
        result.first_divergent_step = judgement.divergence.step
        messages.append(judgement.divergence.describe())
    if failure:
        if result.first_divergent_step is None or failure.step < result.first_divergent_step:
            result.first_divergent_step = failure.step
        messages.append(failure.message)
    if messages:
        result.diagnosis = run.diagnose(judgement)
        if result.diagnosis:
            messages.append(result.diagnosis.describe())
        if result.hyperparameters is not None:
            messages.append(f"built with {run.hyperparameters_shown()}")
    else:
        result.status = "passed"
        messages.extend(judgement.notes)
    result.details.update(run.details())
    result.message = "; ".join(messages)


def check(factory, ref_name, impl="", options=None, progress=None, problem=None, **fields):
    """Every case of reference ``ref_name`` in every mode of its kind: a CheckReport.

    ``problem="cifar"``: the network kind's CIFAR run of that reference. ``fields`` are
    Options fields (dtype="float32", impl_args={...}, ...)."""
    from optgold import kinds

    options = options or Options(**fields)
    kind = kinds.kind_of(ref_name, problem)
    results = []
    for case in kind.cases(ref_name, options):
        earlier = {}
        for mode in kind.modes(case, options):
            result, earlier[mode] = check_case(kind, factory, case, mode, options, earlier)
            results.append(result)
            if progress:
                progress(result)
    return CheckReport(ref_name, impl, results, kind=kind.NAME, extra=kind.report_extra(options))
