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
import importlib.util
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from optgold.hyperparameters import Skip
from optgold.reference.errors import UsageError


@dataclass
class Options:
    """How a check runs; every kind reads the fields it needs."""
    dtype: str = "float64"
    master_weights: str = None  # "float32": low-precision params kept as float32 master weights, with float32 state
    rounding: str = "nearest"  # how low-precision params take their update: nearest, stochastic, kahan (optgold.storage_drift)
    compensation: str = "kahan_comp"  # with rounding "kahan": the state buffer holding the compensation
    inner_precision: str = None  # "bfloat16": IMPL computes its reference's inner step so (Muon's Newton-Schulz)
    compile: bool = False  # the step under torch.compile: the "compiled" adapter (optgold.adapters.compiled)
    cases: tuple = None  # only the cases with these ids; None: every case
    world_size: int = None  # ranks of torch.distributed: the "sharded" adapter (optgold.adapters.sharded)
    sharding: str = "zero"  # with world_size: how the ranks shard IMPL (optgold.shardings)
    resume_world_size: int = None  # with world_size: the ranks a resumed run continues on; None: as many
    master_port: int = 0  # with world_size: the loopback port of the ranks' store; 0: any free one
    device: str = "cpu"
    impl_args: dict = field(default_factory=dict)  # fixed extra keywords of every construction
    timeout: float = None  # seconds per case (per step where the kind says so); None: the kind's TIMEOUT
    budget: float = None  # seconds for the whole check; None: the kind's BUDGET
    threads: int = None  # torch threads of the implementation's process; None: THREADS
    golden_dir: str = None
    adapter: str = None  # optgold.adapters.ADAPTERS; None: the one that claims the implementation, else torch
    contracts: object = "all"  # optgold.contracts: "all", "none", or names (a list or "resume,amp")
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
    curves: list = field(default_factory=list)  # compare.curve of each quantity judged: the report's plots


THREADS = 1  # the default: fastest on a loaded machine (README, "Threads")


@dataclass
class Failure:
    """How the implementation's own run ended early, and at which step (0: while it was built).

    ``kind``: "raised", "not_implemented", "non_finite", "setup", "contract" (it broke a
    contract of the adapter, such as leaving ``.grad`` as given), "timeout" (a per-case or
    per-step limit, or the check's budget) or "exited" (its process ended or was killed)."""
    message: str
    step: int
    kind: str = "raised"


class ContractBreach(Exception):
    """The implementation broke a rule of the interface it is driven through; the message says
    which, with the tensor and step."""


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
    contract: str = None  # the contract a contract case checks (optgold.contracts); None: the formula grid
    first_divergent_step: int = None
    max_abs_error: float = None
    tolerance_used: float = None  # worst |error| / tolerance over judged elements
    message: str = ""
    hyperparameters: dict = None  # what the implementation was built with
    divergence: object = field(default=None, repr=False)
    diagnosis: object = field(default=None, repr=False)
    details: dict = field(default_factory=dict, repr=False)  # kind-specific fields of the JSON report
    evidence: dict = field(default=None, repr=False)  # what the HTML report draws (check.evidence), JSON-able

    def as_json(self):
        keys = ("id", "status", "mode", "contract", "dtype", "first_divergent_step", "max_abs_error", "tolerance_used",
                "message")
        out = {k: getattr(self, k) for k in keys}  # not asdict: it would deep-copy the evidence per key
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
    settings: dict = field(default_factory=dict)  # what ran: every setting, and the versions (check.settings)

    @property
    def passed(self):
        statuses = {c.status for c in self.cases}
        return "failed" not in statuses and "passed" in statuses

    def as_json(self):
        return {"passed": self.passed, "kind": self.kind, "reference": self.reference, "impl": self.impl,
                "settings": self.settings, **self.extra, "cases": [c.as_json() for c in self.cases]}


def _finite(values):
    return values is None or bool(np.isfinite(np.asarray(values, dtype=np.float64)).all())


def drive(run, record=None):
    """Build and step the run in this process, then finish it; returns the Failure that ended it
    early, or None.

    ``record(step)`` is called after construction (step 0), after each step, and after
    ``run.finish()``. Time limits are not drive's: the parent process enforces them
    (optgold.isolation)."""
    progress = {"step": 0, "built": False}
    failure = _steps(run, record, progress)
    if progress["built"]:  # finish() reports on what ran, however it ended
        try:
            run.finish()
        except (Skip, ConfigMismatch, UsageError):
            raise
        except Exception as error:
            failure = failure or _failure(run, error, progress["step"])
    if record:
        record(progress["step"])
    return failure


def _steps(run, record, progress):
    step = 0
    try:
        run.construct()
        progress["built"] = True
        if record:
            record(0)
        steps = run.steps()
        while True:
            step += 1
            values = next(steps, StopIteration)
            if values is StopIteration:
                progress["step"] = step - 1
                return None
            progress["step"] = step
            if record:
                record(step)
            if not _finite(values):
                return Failure(f"non-finite values at step {step}", step, "non_finite")
    except (Skip, ConfigMismatch, UsageError):  # UsageError: the goldens or the setting, not the implementation
        raise
    except Exception as error:  # the implementation's own failure is a result, not a crash
        return _failure(run, error, step)


def _failure(run, error, step):
    if isinstance(error, SetupError):
        return Failure(str(error), step, "setup")
    if isinstance(error, ContractBreach):
        return Failure(str(error), step, "contract")
    kind = "not_implemented" if isinstance(error, NotImplementedError) else "raised"
    if step == 0:
        return Failure(f"construction with {run.hyperparameters_shown()} raised {type(error).__name__}: {error} "
                       "(an implementation raises NotImplementedError for a config it does not support, to "
                       "have it skipped)", 0, kind)
    return Failure(f"raised {type(error).__name__} at step {step}: {error}{_origin(error)}", step, kind)


def _origin(error):
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def check_case(kind, factory, case, mode, options=None, earlier=None, deadline=None, worker=None):
    """Run and judge one case in one mode; never raises for the implementation's own errors.

    The implementation runs in a worker process (optgold.isolation); this process judges.
    ``earlier``: {mode: run} of this case's modes already run (a kind may diagnose on them).
    ``deadline``: time.monotonic() at which the check's budget is spent. ``worker``: the
    check's isolation.Worker, which holds ``case``; else one is started for this case alone.
    Returns (CaseResult, run); run is None where nothing ran.
    """
    from optgold import isolation

    options = options or Options()
    result = CaseResult(case.id, "failed", mode, options.dtype, contract=getattr(case, "contract", None))
    reason = kind.not_applicable(case, mode, options)
    if reason:
        result.status, result.message = "skipped", reason
        return result, None
    timeout, budget = limits_of(options, kind)
    if deadline is not None and time.monotonic() >= deadline:
        result.message = (f"not run: the check's budget of {budget:g} s was spent before this case; the case was "
                          "not judged")
        return result, None
    worker_options = replace(options, progress=None)  # the parent's progress display stays here
    run = kind.start(factory, case, mode, worker_options, earlier or {})
    limits = isolation.Limits(timeout, kind.TIMEOUT_PER_STEP, deadline, budget)
    step_progress = (lambda step: options.progress(case, step)) if options.progress else None
    if worker is None:
        with isolation.Worker(kind, factory, [case], worker_options) as alone:
            outcome = alone.run(0, mode, run, limits, step_progress)
    else:
        outcome = worker.run(worker.index(case), mode, run, limits, step_progress)
    if outcome.status == "usage":
        raise UsageError(outcome.message)
    if outcome.status == "skip":
        result.status, result.message = "skipped", outcome.message
        return result, None
    result.hyperparameters = run.hyperparameters
    if outcome.status == "mismatch":
        result.message = (f"configuration mismatch: {outcome.message} (built with {run.hyperparameters_shown()}); "
                          "the implementation does not hold the case's hyperparameters, so its run was not judged")
        return result, None
    failure = outcome.failure
    if failure and failure.kind == "not_implemented" and failure.step <= 1:
        result.status, result.message = "skipped", f"not implemented: {failure.message}"
        return result, run
    _conclude(result, run, run.judge(), failure)
    return result, run


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
        # a named variant explains a divergence; a run that only raised, hung or ended has none to explain
        result.diagnosis = run.diagnose(judgement) if judgement.divergence else None
        if result.diagnosis:
            messages.append(result.diagnosis.describe())
        if result.hyperparameters is not None:
            messages.append(f"built with {run.hyperparameters_shown()}")
    else:
        result.status = "passed"
        messages.extend(judgement.notes)
    result.details.update(run.details())
    result.evidence = evidence(judgement, result.diagnosis, run.plane())
    result.message = "; ".join(messages)
    if result.contract and result.status == "failed":
        result.message = f"contract {result.contract} broken: {result.message}"


def evidence(judgement, diagnosis, plane):
    """What the HTML report draws of one judged case, as JSON-able data: the judgement's curves of
    |error| / tolerance, the 2-D trajectories (Run.plane), and the diagnosis' distances."""
    variants = None
    if diagnosis is not None:
        variants = {"named": diagnosis.variant if diagnosis.explained else None,
                    "reference": diagnosis.reference_distance, "threshold": diagnosis.threshold,
                    "ranked": [[name, d] for name, d in diagnosis.ranked]}
    return {"curves": judgement.curves, "plane": plane, "variants": variants}


def check(factory, ref_name, impl="", options=None, progress=None, problem=None, **fields):
    """Every case of reference ``ref_name`` in every mode of its kind: a CheckReport.

    ``problem="cifar"``: the network kind's CIFAR run of that reference. ``fields`` are
    Options fields (dtype="float32", impl_args={...}, ...). ``progress(result)`` after each
    case and mode; ``progress.start(total)`` first, where it has one (optgold.progress)."""
    from optgold import isolation, kinds

    options = options or Options(**fields)
    options = with_adapter(options, factory)
    kind = kinds.kind_of(ref_name, problem)
    validate(options, kind)
    deadline = time.monotonic() + limits_of(options, kind)[1]
    results, cases = [], selected_cases(kind.cases(ref_name, options), options.cases)
    if hasattr(progress, "start"):
        progress.start(sum(len(kind.modes(case, options)) for case in cases))
    with isolation.Worker(kind, factory, cases, replace(options, progress=None)) as worker:
        for case in cases:
            earlier = {}
            for mode in kind.modes(case, options):
                result, earlier[mode] = check_case(kind, factory, case, mode, options, earlier, deadline, worker)
                results.append(result)
                if progress:
                    progress(result)
    return CheckReport(ref_name, impl, results, kind=kind.NAME, extra=kind.report_extra(options),
                       settings=settings(impl, ref_name, kind, options))


def with_adapter(options, factory):
    """``options`` naming the adapter that drives ``factory``: the sharded one with a world size, the
    compiled one with compile, else the one given or the one that claims it (optgold.adapters.select)."""
    from optgold import adapters

    chosen = "sharded" if options.world_size else "compiled" if options.compile else options.adapter
    return replace(options, adapter=adapters.select(factory, chosen))


def limits_of(options, kind):
    """(timeout, budget) in seconds: the options', else the kind's defaults."""
    return options.timeout or kind.TIMEOUT, options.budget or kind.BUDGET


def settings(impl, ref_name, kind, options):
    """Every setting a check ran under, with the versions: the report's record of what ran."""
    import torch

    from optgold import __version__

    timeout, budget = limits_of(options, kind)
    return {"impl": impl, "reference": ref_name, "kind": kind.NAME, "dtype": options.dtype,
            "master_weights": options.master_weights, "rounding": options.rounding,
            "compensation": options.compensation if options.rounding == "kahan" else None,
            "inner_precision": options.inner_precision, "cases": list(options.cases) if options.cases else None,
            "world_size": options.world_size, "sharding": options.sharding if options.world_size else None,
            "resume_world_size": options.resume_world_size,
            "device": options.device,
            "modes": list(options.modes) if options.modes else None, "impl_args": dict(options.impl_args),
            "adapter": options.adapter, "contracts": _contracts_setting(kind, options),
            "timeout": timeout, "timeout_per": "step" if kind.TIMEOUT_PER_STEP else "case",
            "budget": budget, "threads": options.threads or THREADS,
            "golden_dir": None if options.golden_dir is None else str(options.golden_dir),
            "optgold_version": __version__, "torch_version": torch.__version__}


def selected_cases(cases, ids):
    """The cases whose id is in ``ids`` (all where None); a UsageError naming an id no case has."""
    cases = list(cases)
    if ids is None:
        return cases
    unknown = sorted(set(ids) - {c.id for c in cases})
    if unknown:
        raise UsageError(f"no case {', '.join(map(repr, unknown))}; the cases are {', '.join(c.id for c in cases)}")
    return [c for c in cases if c.id in ids]


def validate(options, kind):
    """A UsageError (one line) for a setting no case could run under; called before anything runs."""
    from optgold import adapters
    from optgold.runner import DTYPES

    if options.dtype not in DTYPES:
        raise UsageError(f"dtype {options.dtype!r} is not one of {', '.join(DTYPES)}")
    if options.master_weights not in (None, "float32"):
        raise UsageError(f"master_weights {options.master_weights!r}: the one kind of master weights is float32")
    if options.master_weights and options.dtype not in ("bfloat16", "float16"):
        raise UsageError(f"master weights are kept for bfloat16 or float16 parameters, not {options.dtype}")
    if options.rounding not in ("nearest", "stochastic", "kahan"):
        raise UsageError(f"rounding {options.rounding!r} is not one of nearest, stochastic, kahan")
    if options.rounding != "nearest" and options.dtype not in ("bfloat16", "float16"):
        raise UsageError(f"rounding {options.rounding} is how bfloat16 or float16 parameters take their update, "
                         f"not {options.dtype} ones")
    if options.rounding != "nearest" and options.master_weights:
        raise UsageError(f"rounding {options.rounding} and master weights exclude each other: with float32 master "
                         "weights the parameters are rounded copies")
    if options.dtype not in getattr(kind, "DTYPES", ("float64", "float32")):
        raise UsageError(f"dtype {options.dtype}: the {kind.NAME} kind checks "
                         f"{', '.join(getattr(kind, 'DTYPES', ('float64', 'float32')))}")
    _validate_device(options.device)
    for name in ("timeout", "budget"):
        value = getattr(options, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value <= 0):
            raise UsageError(f"{name} {value!r} must be a positive number of seconds")
    if options.threads is not None and not _whole(options.threads, 1):
        raise UsageError(f"threads {options.threads!r} must be a whole number, 1 or more")
    if options.modes is not None:
        unknown = [m for m in options.modes if m not in kind.MODES]
        if unknown or not options.modes:
            raise UsageError(f"mode {', '.join(map(repr, unknown)) or '(none)'}: the {kind.NAME} kind's modes are "
                             f"{', '.join(kind.MODES)}")
    _validate_sharding(options)
    if options.compile and options.adapter not in (None, "torch", "compiled"):
        raise UsageError(f"--compile compiles a torch optimizer's step; adapter {options.adapter} is not torch's")
    if options.adapter is not None and options.adapter not in adapters.ADAPTERS:
        raise UsageError(f"adapter {options.adapter!r} is not one of {', '.join(sorted(adapters.ADAPTERS))}")
    serves = getattr(adapters.ADAPTERS.get(options.adapter), "KINDS", None)
    if serves and kind.NAME not in serves:
        raise UsageError(f"adapter {options.adapter} drives implementations of the {', '.join(serves)} kind; "
                         f"this reference is checked by the {kind.NAME} kind")
    _contracts(kind, options)  # an unknown contract is a UsageError
    if not isinstance(options.impl_args, dict) or not all(isinstance(k, str) and k.isidentifier()
                                                          for k in options.impl_args):
        raise UsageError(f"impl_args {options.impl_args!r} must be a dict of keyword names to values")


def _whole(value, least):
    """``value`` is a whole number (not a bool), ``least`` or more."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _validate_sharding(options):
    from optgold.shardings import SHARDINGS

    if options.world_size is None:
        if options.resume_world_size is not None:
            raise UsageError("--resume-world-size needs --world-size")
        return
    if not _whole(options.world_size, 1):
        raise UsageError(f"world size {options.world_size!r} must be a whole number, 1 or more")
    if options.resume_world_size is not None and not _whole(options.resume_world_size, 1):
        raise UsageError(f"resume world size {options.resume_world_size!r} must be a whole number, 1 or more")
    if options.sharding not in SHARDINGS:
        raise UsageError(f"sharding {options.sharding!r} is not one of {', '.join(SHARDINGS)}")
    needs = getattr(SHARDINGS[options.sharding], "NEEDS", None)
    if needs and importlib.util.find_spec(needs) is None:
        raise UsageError(f"sharding {options.sharding} needs {needs}: pip install 'optgold[{needs}]'")
    if not _whole(options.master_port, 0) or options.master_port > 65535:
        raise UsageError(f"master port {options.master_port!r} must be 0 (any free port) or a port number")
    if options.compile or options.adapter not in (None, "sharded"):
        raise UsageError("--world-size runs IMPL sharded on torch.distributed; it excludes --compile and --adapter")
    if str(options.device) != "cpu":
        raise UsageError(f"--world-size runs its ranks with gloo on the CPU, not on {options.device}")


def _contracts(kind, options):
    """The contracts a check runs: those selected, where its kind has contract cases in the check's
    dtype; a UsageError for an unknown name, or for names given where there are none."""
    from optgold import contracts

    if not isinstance(options.contracts, (str, list, tuple, type(None))):
        raise UsageError(f"contracts {options.contracts!r} must be all, none, or contract names")
    chosen = contracts.selected(options.contracts)
    if options.dtype in getattr(kind, "CONTRACTS", ()):
        return chosen
    if options.contracts not in (contracts.ALL, contracts.NONE, None):
        where = f"in {options.dtype}" if getattr(kind, "CONTRACTS", ()) else "in the " + kind.NAME + " kind"
        raise UsageError(f"contracts {', '.join(chosen)}: there are no contract cases {where}; leave "
                         "--contracts out")
    return ()


def _contracts_setting(kind, options):
    """How the report records the contracts: "all", "none", their names, or None for a kind without any."""
    from optgold import contracts

    if options.dtype not in getattr(kind, "CONTRACTS", ()):
        return None
    chosen = _contracts(kind, options)
    return contracts.ALL if chosen == tuple(contracts.CONTRACTS) else list(chosen) if chosen else contracts.NONE


def _validate_device(device):
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise UsageError(f"device {device!r} is not a torch device ({' '.join(str(error).split())[:120]}); use cpu "
                         "or cuda[:N]") from None
    if parsed.type == "cpu":
        return
    if parsed.type != "cuda":
        raise UsageError(f"device {device!r}: optgold runs on cpu or cuda[:N]")
    if not torch.cuda.is_available():
        raise UsageError(f"device {device!r}: CUDA is not available on this machine")
    if parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise UsageError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
