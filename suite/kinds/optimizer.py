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

from optgold import (adapters, compare, contracts, diagnose, hyperparameters, local, problems, quantized,
                     reference, storage_drift, tolerance)
from optgold.adapters import sharded
from optgold.check import ConfigMismatch, Judgement
from optgold.golden.dtypes import C, UNIT_ROUNDOFF
from optgold.golden.load import load_cases, load_contract_goldens
from optgold.kinds.base import Run
from optgold.problems import TorchProblem
from optgold.reference import capabilities
from optgold.reference.contracts import Events
from optgold.reference.errors import UsageError
from optgold.reference.trajectory import initial_state, state_values
from optgold.runner import DTYPES as TORCH_DTYPES, LOW

NAME = "optimizer"
TIMEOUT_PER_STEP = False
TIMEOUT = 30.0  # seconds per case and mode; the slowest correct case takes under 2 s
BUDGET = 300.0  # seconds for a whole check
MODES = ("replay", "free")  # replay first: a free-run failure is diagnosed on the replay run
GRID_DTYPES = ("float64", "float32")
DTYPES = ("float64", "float32") + LOW  # bfloat16 and float16 are judged a step at a time (optgold.local)
CONTRACTS = ("float64", "float32")  # the dtypes its cases include the contracts' in (optgold.contracts)


def references():
    return reference.OPTIMIZERS


def cases(ref_name, options):
    """The formula grid's cases, then the contract cases the options select."""
    declared = capabilities.of(reference.get(ref_name)).inner_precision
    if options.inner_precision and (declared is None or declared[0] != options.inner_precision):
        raise UsageError(f"--inner-precision {options.inner_precision}: {ref_name} declares "
                         + (f"{declared[0]}" if declared else "no inner precision") + " (optgold list)")
    formula = load_cases(ref_name, options.golden_dir)
    if not contracts.selected(options.contracts) or options.dtype not in CONTRACTS:
        return formula
    return formula + contracts.cases(ref_name, options.contracts, load_contract_goldens(ref_name, options.golden_dir))


def modes(case, options):
    chosen = options.modes or MODES
    only = getattr(contracts.CONTRACTS.get(case.contract), "MODES", None) if case.contract else None
    return tuple(sorted((m for m in chosen if only is None or m in only), key=lambda m: m != "replay"))


def not_applicable(case, mode, options):
    if options.dtype in LOW and options.master_weights and mode == "free":
        return ("a free run with master weights takes gradients at the low-precision copy, which no golden holds; "
                "replay judges the master weights")
    if options.dtype in LOW:
        return local.supported(reference.get(case.reference)) or local.out_of_range(case, options.dtype)
    if options.world_size:
        return sharded.not_applicable(case, options)
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
                                                      "cases", "contracts")))
    for name, module in references().items():
        hp = ", ".join(f"{k}={v}" for k, v in module.DEFAULTS.items())
        applying = [c for c, reason in capabilities.contracts(module).items() if reason is None]
        t.add_row(name, hp, ", ".join(v for v in module.VARIANTS if v != "torch"), str(len(GRID.get(name, []))),
                  ", ".join(applying) or "none")
    return t


def case_hyperparameters(case, factory, impl_args, adapter=None):
    """The keywords an implementation of ``case`` is built with (hyperparameters.Skip if it cannot take them).
    An adapter that renames torch's keywords itself (optax's) says, with torch_keywords, which it can express."""
    named = getattr(adapters.get(adapters.select(factory, adapter)), "torch_keywords", None)
    return hyperparameters.construction_kwargs(named(factory) if named else factory, case.hp,
                                               reference.get(case.reference).DEFAULTS, impl_args or {},
                                               getattr(case, "groups", ()))


def check_configuration(adapter, case, held_back=()):
    """ConfigMismatch if the implementation holds a case hyperparameter with another value (the param
    groups of ``held_back`` tensors join later, and are not held yet)."""
    groups = adapter.hyperparameter_groups()
    if groups is None:  # nothing to read back
        return
    built = [g for g in getattr(case, "groups", ()) if not set(held_back) & set(g["tensors"])]
    found = hyperparameters.mismatches(groups, case.hp, built)
    if found:
        raise ConfigMismatch("; ".join(found))


class OptimizerRun(Run):
    RECORDED = ("hyperparameters", "params", "state", "counts", "given", "local_state", "quantized", "engine",
                "shards")

    def __init__(self, factory, case, mode, options, replay):
        self.factory, self.case, self.mode, self.options, self.replay = factory, case, mode, options, replay
        module = reference.get(case.reference)
        self.closure = capabilities.of(module).closure
        self.sparse = capabilities.of(module).sparse_gradients
        self.events = Events.of(case.events)
        self.sizes = [int(np.prod(s)) for s in case.shapes]
        self.widths = _state_widths(module, case)
        self.tensor_dtypes = contracts.option(case, "tensor_dtypes", options.dtype, None)
        # a low-precision check keeps torch's default at float32, as a model cast to bfloat16 does
        self.default_dtype = contracts.option(case, "default_dtype", options.dtype,
                                              "float32" if options.dtype in LOW else options.dtype)
        self.low = options.dtype in LOW
        # low precision and quantized state: each step's gradient as given, every state, the quantized buffers
        self.given, self.local_state, self.quantized = [], [], []
        # params: one flat row per step; state: {name: per step (row, hidden elements or None), or None
        # where no parameter exposes it}; counts: per step, each parameter's step count or None
        self.params, self.state, self.counts = [], {}, []
        self.engine = []  # what the adapter reports of its engine (a compiled step's compile time)
        self.shards = None  # a sharded adapter's layouts: which rank holds what (optgold.adapters.sharded)

    def construct(self):
        self.hyperparameters = case_hyperparameters(self.case, self.factory, self.options.impl_args,
                                                    self.options.adapter)
        extra = contracts.option(self.case, "adapter_options", self.options.dtype, {})
        if self.events.joins:
            extra["held_back"] = tuple(self.events.joins)
        if self.options.world_size:
            extra["sharding"] = sharded.settings(self.options)
            if self.default_dtype != self.options.dtype:
                extra["default_dtype"] = self.default_dtype
        self.adapter = adapters.get(adapters.select(self.factory, self.options.adapter))(
            self.factory, self.hyperparameters, self.case.params[0], self.case.shapes, self.options.dtype,
            self.options.device, sparse=self.sparse, state_on_first=self.closure, groups=self.case.groups,
            schedule=self.case.schedule, **extra)
        check_configuration(self.adapter, self.case, tuple(self.events.joins))
        self.params.append(self.adapter.flat_params())
        self.local_names = local.state_names(reference.get(self.case.reference), self.case) if self.low else ()
        if self.low and self.options.rounding == "kahan":
            self.local_names += (self.options.compensation,)

    def steps(self):
        case, adapter, events = self.case, self.adapter, self.events
        problem = TorchProblem(case.problem, case.negate) if self.mode == "free" else None
        overflows = {t: ("inf", "nan")[n % 2] for n, t in enumerate(sorted(events.skipped))}
        for t in range(1, case.steps + 1):
            if t in events.restart:
                adapter.restart(events.reorder) if events.reorder else adapter.restart()
            for k in sorted(k for k, at in events.joins.items() if at == t):
                adapter.add_group(k)
            if self.closure:
                adapter.step_closure(lambda x, t=t: tuple(v.numpy() for v in
                                                           problem.loss_and_gradient(torch.from_numpy(x), t - 1)))
            else:
                grad = case.grads[t - 1] if self.mode == "replay" else problem.gradient(
                    torch.from_numpy(self.params[-1]), t - 1).numpy()
                around = {}
                if events.absent.get(t):
                    around["absent"] = events.absent[t]
                if t in overflows:
                    around["overflow"] = overflows[t]
                grad = self._zeroed(grad, events.zeroed.get(t, ()))
                # what the parameter's dtype makes of it, as the implementation is given it
                self.given.append(torch.tensor(grad).to(TORCH_DTYPES[self.options.dtype]).double().numpy())
                adapter.step(grad, **around)
            self.params.append(adapter.flat_params())
            found = adapter.flat_state(self.local_names or case.state)  # local_names holds case.state's
            self.quantized.append(adapter.quantized_state(self.local_names or case.state))
            self.local_state.append(found)  # a step judged on its own starts from it (optgold.local, .quantized)
            self._record_state(t, found)
            self.counts.append(adapter.step_counts())
            self.engine = adapter.engine_notes() if hasattr(adapter, "engine_notes") else []
            self.shards = adapter.shards() if hasattr(adapter, "shards") else None
            yield self.params[-1]

    def _zeroed(self, grad, tensors):
        if not tensors:
            return grad
        grad, offsets = np.array(grad), np.concatenate([[0], np.cumsum(self.sizes)])
        for k in tensors:
            grad[offsets[k]:offsets[k + 1]] = 0.0
        return grad

    def _record_state(self, t, found):
        """One step's state: each name's flat row, with the elements of parameters that do not expose
        it (torch makes state on a parameter's first step with a gradient) marked hidden."""
        for name in self.case.state:
            values = found.get(name)
            if values is None:
                if name in self.state:
                    self.state[name].append(None)
                continue
            widths = self.widths.get(name)
            if any(v is None for v in values) and (widths is None or len(widths) != len(values)):
                entry = None  # which elements are hidden is not known: not judged at this step
            elif any(v is None for v in values):
                entry = (np.concatenate([v if v is not None else np.full(w, np.nan) for v, w in zip(values, widths)]),
                         np.concatenate([np.full(w if v is None else len(v), v is None) for v, w in zip(values, widths)]))
            else:
                entry = (np.concatenate(values), None)
            self.state.setdefault(name, [None] * (t - 1)).append(entry)

    def judge(self):
        judgement = self._judge()
        judgement.notes = list(judgement.notes) + list(self.engine)
        judgement.divergence = sharded.name_rank(judgement.divergence, self.shards)
        return judgement

    def _judge(self):
        if self.low and self.options.master_weights:
            return self._judge_master_weights()
        if self.low:
            return self._judge_locally()
        if self.options.inner_precision:  # Muon: Newton-Schulz in bfloat16 (optgold.inner_precision)
            return self._judge_inner_precision()
        if quantized.any_recorded(self.quantized):  # coarse whatever the dtype: a step at a time, code by code;
            # not as a whole trajectory (optgold.storage_drift): 8-bit state carries a correct run far from any walk
            return self._one_step_judgement(notes=[quantized.note(self.quantized, self.case.shapes)])
        case, dtype = self.case, self.options.dtype
        observed = np.array(self.params)
        coarse = self._coarsest()
        last = tolerance.free_run_horizon(case, coarse) if self.mode == "free" else case.steps
        judged = [("params", observed[:last + 1], case.params[:last + 1], self._bound(
            lambda d: tolerance.param_bound(case, d, self.mode), self.sizes), 0)]
        for name, rows in self.state.items():
            expected = case.state[name][:last]
            bound = self._bound(lambda d: tolerance.state_bound(case, name, d, self.mode), self.widths.get(name))
            judged.append((name, _observed_state(rows[:last], expected), expected, bound[:last], 1))
        notes = []
        if self.tensor_dtypes and set(self.tensor_dtypes) != {dtype}:
            notes.append(f"tensors in {', '.join(self.tensor_dtypes)}, judged "
                         + ("each at its own dtype" if self.mode == "replay" else f"at {coarse}")
                         + (f", with torch's default dtype {self.default_dtype}" if self.default_dtype != dtype else ""))
        if self.mode == "free" and last < case.steps:
            notes.append(f"judged to step {last} of {case.steps}: beyond it, rounding alone can carry a correct run "
                         "off the golden (chaotic dynamics); replay judges every step")
        return self._verdict(case, judged, last, notes)

    def _verdict(self, case, judged, last, notes):
        """The Judgement of (quantity, observed, expected, bound, first step) rows, judged to step ``last``
        against ``case`` (the golden, or the one it was walked into), with the step counts."""
        found = [compare.first_divergence(name, obs, exp, bound, case.shapes, first)
                 for name, obs, exp, bound, first in judged]
        found = [d for d in found + [self._step_count_divergence()] if d is not None]
        observed = judged[0][1]
        return Judgement(min(found, key=lambda d: d.step) if found else None,
                         compare.max_abs_error(observed, case.params[:last + 1]),
                         max(compare.tolerance_used(obs, exp, bound) for _, obs, exp, bound, _ in judged), last, notes,
                         [compare.curve(name, obs, exp, bound, case.shapes, first)
                          for name, obs, exp, bound, first in judged])

    def _judge_master_weights(self):
        """float32 master weights and state: the run is a float32 run on the gradients it was given
        (rounded to the dtype), seen through one rounding of each parameter to the dtype. The golden it
        is judged against is the reference walked again on those rounded gradients."""
        case, low = local.emulated(self.case, self.options.dtype), self.options.dtype
        observed = np.array(self.params)
        rounding = C * (local.UNIT[low] * np.abs(case.params) + local.FLOOR[low])
        judged = [("params", observed, case.params, tolerance.param_bound(case, "float32", "replay") + rounding, 0)]
        for name, rows in self.state.items():
            expected = case.state[name]
            judged.append((name, _observed_state(rows, expected), expected,
                           tolerance.state_bound(case, name, "float32", "replay"), 1))
        return self._verdict(case, judged, case.steps,
                             [f"float32 master weights and state: judged as a float32 run, params through one {low} "
                              "rounding"])

    def _one_step_judgement(self, detail="", notes=(), params=None):
        """Every step on its own, from the implementation's own params and state (optgold.local), with the
        step counts; ``detail`` says what the rounding note adds, ``params`` the rows judged, if not as read."""
        curves = []
        first, worst, used = local.judge(self, params, curves)
        found = [d for d in (first, self._step_count_divergence()) if d is not None]
        return Judgement(min(found, key=lambda d: d.step) if found else None, worst, used, self.case.steps,
                         [f"judged one step at a time, from the implementation's own params and state "
                          f"({self.options.dtype} rounding{detail})", *notes], curves)

    def _judge_inner_precision(self):
        """The coarse inner rounding of one step is not carried into the next (optgold.inner_precision)."""
        inner = capabilities.of(reference.get(self.case.reference)).inner_precision
        return self._one_step_judgement(f", the update's {inner[1]} within its measured spread")

    def _judge_locally(self):
        try:
            params = local.judged_params(self)
        except local.CompensationMissing as missing:
            return Judgement(compare.Finding("params", 1, -1, (), np.nan, np.nan, 0.0, str(missing)), 0.0,
                             float("inf"), self.case.steps, [])
        rounding = {"nearest": "", "stochastic": ", rounded stochastically",
                    "kahan": ", with Kahan-compensated parameters"}[self.options.rounding]
        judgement = self._one_step_judgement(rounding, params=params)
        if self.mode == "replay":
            dtype = self.options.dtype
            whole, whole_used = storage_drift.judge(params, self.case, dtype, self.options.rounding,
                                                    local.UNIT[dtype], local.FLOOR[dtype], judgement.curves)
            if whole is not None and (judgement.divergence is None or whole.step < judgement.divergence.step):
                judgement.divergence = whole  # the earlier step's (a one-step divergence at the same step first)
            judgement.tolerance_used = max(judgement.tolerance_used, 1.0 if whole is not None else whole_used)
            judgement.notes.append("and as a whole trajectory, within the drift storage rounding causes")
        return judgement

    def _coarsest(self):
        """The dtype the run as a whole is judged at: the check's, or the coarsest of mixed tensors."""
        dtypes = self.tensor_dtypes or [self.options.dtype]
        return max(dtypes, key=lambda d: UNIT_ROUNDOFF[d])

    def _bound(self, bound_at, widths):
        """The tolerance: at the check's dtype; with tensors of several dtypes, in replay each tensor's
        columns at its own dtype (its rounding stays its own), in a free run all at the coarsest (the
        problem mixes every tensor's rounding into every gradient)."""
        if not self.tensor_dtypes or self.mode == "free" or widths is None:
            return bound_at(self._coarsest())
        by_dtype = {d: bound_at(d) for d in set(self.tensor_dtypes)}
        offsets = np.concatenate([[0], np.cumsum(widths)])
        out = np.array(by_dtype[self.tensor_dtypes[0]])
        for k, d in enumerate(self.tensor_dtypes):
            out[:, offsets[k]:offsets[k + 1]] = by_dtype[d][:, offsets[k]:offsets[k + 1]]
        return out

    def _step_count_divergence(self):
        expected = self.events.counts(len(self.case.shapes), len(self.counts))
        for t, (counts, wanted) in enumerate(zip(self.counts, expected), start=1):
            for k, (count, want) in enumerate(zip(counts, wanted)):
                if count is not None and count != (want or 0):
                    return compare.Divergence("state step", t, k, (), float(count), float(want or 0), 0.0)
        return None

    def plane(self):
        if problems.plane(self.case.problem) is None or len(self.params) < 2:
            return None
        observed = np.array(self.params)
        return {"problem": self.case.problem, "golden": self.case.params[:len(observed)].tolist(),
                "observed": observed.tolist()}

    def diagnose(self, judgement):
        if self.case.contract:  # the variants are the formula's; a contract case's divergence is the contract's
            return None
        if self.low or quantized.any_recorded(self.quantized):  # variants are told apart by whole trajectories,
            return None  # which coarse rounding (or a quantized state) carries anywhere
        run = self.replay if self.replay is not None else self
        if len(run.params) < 2:
            return None
        if run is not self and getattr(run, "diagnosis", None) is not None:
            return run.diagnosis
        self.diagnosis = diagnose.diagnose(self.case, np.array(run.params))
        return self.diagnosis


def _state_widths(module, case):
    """{state name: its number of elements per tensor}, from the reference's own state."""
    caps = capabilities.of(module)
    if caps.closure:
        return {}
    widths = {}
    for shape, hp in zip(case.shapes, case.tensor_hyperparameters()):
        size = int(np.prod(shape))
        state = initial_state(module, size, shape, hp)
        for name in case.state:
            if name in state:
                widths.setdefault(name, []).append(len(state_values(state[name], size)))
    return {name: w for name, w in widths.items() if len(w) == len(case.shapes)}


def _observed_state(rows, expected):
    """The observed rows of one state as an array: where a step or an element was not exposed, the
    expected value stands in (not judged). Rows of another width than the golden's are returned as
    they are, for the comparison to report."""
    if any(r is not None and len(r[0]) != expected.shape[1] for r in rows):
        width = next(len(r[0]) for r in rows if r is not None and len(r[0]) != expected.shape[1])
        return np.zeros((len(rows), width))
    out = np.array(expected[:len(rows)], dtype=np.float64)
    for i, row in enumerate(rows):
        if row is None:
            continue
        values, hidden = row
        out[i] = values if hidden is None else np.where(hidden, out[i], values)
    return out
