"""Judging where rounding is coarse: each step from the implementation's own previous params and state.

In bfloat16 or float16 a legitimate implementation rounds at every store, and a rounding
that falls the other side of a boundary is carried into every later step: a whole
trajectory cannot be held to one golden within a bound that still catches bugs. So each
step t is judged on its own. The reference takes the implementation's params and state
after step t - 1 as it reads them back (every state entry the reference keeps, under
torch's names, and its step count) and the gradient the implementation was given, in
the parameter's dtype, and walks one step in float64. The implementation's step t must
land within

    C * u * (|p_t| + |p_t - p_{t-1}| + mean |p_t - p_{t-1}|)

of it, elementwise (u the dtype's unit roundoff: its update is computed to within a few
roundings and stored with one more), and each state buffer within C * u * (|s_t| +
|s_{t-1}| + their mean), the size of its terms (momentum * buf + g can cancel). Both add
C times the spacing of the dtype's subnormals, where float16 stores small values with
less than its precision. A step count the implementation does not expose is taken from
the case. Measured over every forloop, foreach and fused torch 2.13 path in bfloat16
(tests/test_low_precision.py), the worst step used 0.39 of the bound (C = 8).
"""
import numpy as np

from optgold import compare, contracts, inner_precision, quantized, reference, stochastic
from optgold.golden.dtypes import C, UNIT_ROUNDOFF
from optgold.reference import capabilities, trajectory
from optgold.reference.contracts import Events

# the spacing of subnormals: float16's are coarse (float32 and float64: quantized state, optgold.quantized)
FLOOR = {"bfloat16": 2.0 ** -133, "float16": 2.0 ** -24, "float32": 2.0 ** -149, "float64": 2.0 ** -1074}
# the goldens' dtypes (whose drift they store: golden.dtypes), and the ones judged only a step at a time
UNIT = {**UNIT_ROUNDOFF, "bfloat16": 2.0 ** -8, "float16": 2.0 ** -11}
LARGEST = {"bfloat16": 3.38e38, "float16": 65504.0}


def supported(module):
    """Why one step of this reference cannot be walked from a read-back state, or None."""
    caps = capabilities.of(module)
    if caps.closure:
        return "the optimizer evaluates its closure itself: no single step to walk from its state"
    if caps.sparse_gradients:
        return "sparse gradients are not judged in low precision yet"
    return None


class LocalJudge:
    """One case's steps, each walked by the reference from what the implementation held before it."""

    def __init__(self, case, dtype, inner=None):
        self.case = case
        dtypes = contracts.option(case, "tensor_dtypes", dtype, None) or [dtype]
        self.unit = max(UNIT[d] for d in dtypes)  # mixed tensor dtypes: each step judged at the coarsest
        self.module = reference.get(case.reference)
        self.caps = capabilities.of(self.module)
        self.tensor_hp = case.tensor_hyperparameters()
        groups = case.run_args()["groups"]
        self.group_of = trajectory.group_index(groups, len(case.shapes))
        self.scheduled = trajectory.scheduled_hyperparameters(case.schedule, case.hp, groups, case.steps) \
            if case.schedule else None
        self.events = Events.of(case.events)
        self.rows = self.events.schedule_rows(case.steps)
        # tensor: the state this judge walked it to, for entries the implementation hides or a restart permutes
        self.carried, self.permuted = {}, None
        # a coarser inner precision (Muon's bfloat16 Newton-Schulz): walked as torch rounds it, and each
        # update given the slack that precision measures on the step's own input (optgold.inner_precision)
        declared, inner = inner, self.caps.inner_precision if inner else None  # inner: the check's --inner-precision
        if inner and inner[0] != declared:
            raise ValueError(f"{case.reference} declares its inner precision {inner[0]}, not {declared}")
        self.variant = {"variant": inner[1]} if inner else {}
        self.inner_unit = UNIT[inner[0]] if inner else None
        self.rng = np.random.default_rng(inner_precision.SEED)
        self.slack = 0.0  # the last step's, added to the params' floor (optgold.local.judge)

    def step(self, t, k, before, grad, state, count):
        """(params, {state name: values}) the reference computes at step t for tensor k, from its
        params ``before``, the ``grad`` it was given, its read-back ``state`` ({name: values}) and
        step ``count`` before the step."""
        shape = self.case.shapes[k]
        size = len(before)
        hp = dict(self.tensor_hp[k])
        if self.scheduled:
            hp.update(self.scheduled[self.rows[t - 1]][self.group_of[k]])
        walked = trajectory.initial_state(self.module, size, shape, hp)
        order = self.events.positions_after(t)
        if order is not None and self.permuted != t:  # a restart gave tensor order[i] the state of tensor i
            self.carried, self.permuted = {order[i]: held for i, held in self.carried.items()}, t
        if order is not None:  # what was read back is of before the restart: this judge's walk of what it got
            state = {}
        for name, value in walked.items():
            if name == "step":
                walked[name] = int(count or 0)
            elif name in state and state[name] is not None:
                held = [float(v) for v in state[name]]
                walked[name] = held if isinstance(value, list) or value is None else held[0]
            elif name in self.carried.get(k, {}):  # not exposed: where this judge's own walk left it
                walked[name] = self.carried[k][name]
        x = [float(v) for v in before]
        self.slack = 0.0
        if not self.events.stepped(k, t):  # no gradient, an overflow skip, or not in the optimizer yet
            return x, walked
        extra = {"shape": shape} if self.caps.uses_shape else {}
        hp = trajectory.convert(hp, float)
        grad = [float(g) for g in grad]
        if self.inner_unit:
            self.slack = inner_precision.muon_update_slack(self.module, hp, shape, grad, walked["momentum_buffer"],
                                                           self.inner_unit, self.rng)
        self.module.step(x, grad, walked, **extra, **hp, **self.variant)
        self.carried[k] = {name: list(v) if isinstance(v, list) else v for name, v in walked.items()}
        return x, walked


def judge(run, params=None, curves=None):
    """The first divergence of a low-precision run (an OptimizerRun), judged step by step; and the worst
    |error| / bound and |error| over what was judged. ``params``: the rows judged (judged_params's).
    ``curves``: a list that receives compare.curve's form of each quantity's per-step worst |error| / bound,
    where a step's ratio is one number (not under stochastic rounding, nor for a quantized buffer's codes)."""
    case, dtype, rounding = run.case, run.options.dtype, run.options.rounding
    local = LocalJudge(case, dtype, run.options.inner_precision)
    floor = FLOOR[dtype]
    offsets = np.concatenate([[0], np.cumsum(run.sizes)])
    first, used, worst = None, 0.0, 0.0
    expected_counts = run.events.counts(len(case.shapes), case.steps)
    params = judged_params(run) if params is None else params
    tally = stochastic.Tally()
    seen = {}  # {quantity: {step: {tensor: worst |error| / bound}}}: the curves
    record = (lambda name, t, k, ratio: seen.setdefault(name, {}).setdefault(t, {}).__setitem__(k, ratio)) \
        if curves is not None else None
    for t in range(1, len(run.params)):
        before, after = params[t - 1], params[t]
        grad = run.given[t - 1]
        for k in range(len(case.shapes)):
            a, b = offsets[k], offsets[k + 1]
            if b == a:
                continue
            state = _tensor_state(run, t - 1, k)
            count = (run.counts[t - 2][k] if run.counts[t - 2][k] is not None else expected_counts[t - 2][k]) \
                if t >= 2 else 0
            expected, walked = local.step(t, k, before[a:b], grad[a:b], state, count)
            if rounding == "stochastic":
                found, u, w = stochastic.compare_step(t, k, a, after[a:b], expected, before[a:b], dtype, local.unit,
                                                      floor, case.shapes, tally)
            else:
                found, u, w = _compare("params", t, k, after[a:b], np.array(expected), before[a:b], local.unit,
                                       floor + local.slack, case.shapes,
                                       _compensations(run, t, k) if rounding == "kahan" else None, record)
            used, worst = max(used, u), max(worst, w)
            first = first or found
            for name, values in _tensor_state(run, t, k).items():
                if values is None or not isinstance(walked.get(name), (list, float)):
                    continue
                exp = np.array(walked[name] if isinstance(walked[name], list) else [walked[name]], dtype=float)
                if exp.shape != np.shape(values):
                    continue
                held = state.get(name)
                previous = np.abs(held) if held is not None and np.shape(held) == exp.shape else np.zeros_like(exp)
                buffer = quantized.recorded(run, t, name, k)
                if buffer is not None:  # its codes, absmax and block size, not its dequantized values
                    found, u = quantized.judge(name, t, k, buffer, exp, state_bound(exp, previous, local.unit, floor))
                else:
                    found, u, _ = _compare(name, t, k, np.asarray(values), exp, previous, local.unit, floor,
                                           case.shapes, record=record)
                used = max(used, u)
                first = first or found
        if first is not None:
            break
    if first is None and rounding == "stochastic":
        first = tally.divergence(case.shapes)
        used = max(used, 1.0) if first is not None else used
    if curves is not None:
        curves.extend(_curves(seen, run.sizes))
    return first, worst, used


def _curves(seen, sizes):
    """compare.curve's form of ``judge``'s per-step ratios; None where a tensor was not judged at a step."""
    tensors = [k for k, n in enumerate(sizes) if n > 0]
    out = []
    for name, by_step in seen.items():
        first, last = min(by_step), max(by_step)
        rows = [[by_step.get(t, {}).get(k) for k in tensors] for t in range(first, last + 1)]
        out.append({"quantity": name, "first_step": first, "tensors": [f"tensor {k}" for k in tensors],
                    "ratio": rows})
    return out


def judged_params(run):
    """The parameter rows judged: as read back, or with Kahan summation their compensated values
    (param + compensation, which carries what the rounded parameter lost)."""
    if run.options.rounding != "kahan":
        return run.params
    rows = [np.asarray(run.params[0], dtype=np.float64)]
    for t in range(1, len(run.params)):
        held = run.local_state[t - 1].get(run.options.compensation)
        if held is None or any(v is None for v in held):
            raise CompensationMissing(run.options.compensation)
        rows.append(np.asarray(run.params[t], dtype=np.float64) + np.concatenate(held))
    return rows


class CompensationMissing(AssertionError):
    """Kahan summation was declared, and the implementation keeps no compensation under that name."""

    def __str__(self):
        return (f"Kahan summation was declared, and the implementation exposes no compensation state "
                f"{self.args[0]!r} for every parameter (--compensation names it)")


def _compensations(run, t, k):
    """|compensation| of tensor k before and after step t: the Kahan sum rounds at their size."""
    def held(step):
        if step == 0:
            return 0.0
        return np.abs(run.local_state[step - 1][run.options.compensation][k])
    return held(t - 1) + held(t)


def _compare(name, t, k, observed, expected, before, unit, floor, shapes, compensation=None, record=None):
    """Params: ``before`` is where they were, and the update's size enters the bound (and with Kahan
    summation the compensation's, in place of the parameter's: its rounding is carried). State:
    ``before`` is |the state it came from|, whose terms (momentum * buf) enter it too."""
    if name == "params":
        moved = np.abs(expected - np.asarray(before))
        size = np.abs(expected) if compensation is None else compensation
        bound = C * (unit * (size + moved + moved.mean()) + floor)
    else:
        bound = state_bound(expected, before, unit, floor)
    error = np.abs(np.asarray(observed) - expected)
    ratio = error / bound  # bound >= C * floor > 0
    outside = ~(error <= bound)  # a NaN is outside
    if record is not None:  # the report's curve: the worst element's ratio, a NaN's as inf
        record(name, t, k, float(np.nan_to_num(ratio, nan=np.inf).max(initial=0.0)))
    if not outside.any():
        return None, float(ratio.max(initial=0.0)), float(error.max(initial=0.0))
    used = max(float(ratio[~outside].max(initial=0.0)), 1.0)
    i = int(np.argmax(np.where(outside, np.nan_to_num(ratio, nan=np.inf), -1.0)))
    index = tuple(int(v) for v in np.unravel_index(i, shapes[k])) if name == "params" else (i,)
    return (compare.Divergence(f"{name} (one step from the implementation's own state)", t, k, index,
                               float(observed[i]), float(expected[i]), float(bound[i])),
            used, float(error.max(initial=0.0)))


def state_bound(expected, before, unit, floor):
    """One step's bound for a state buffer: C * (u * (|s_t| + |s_{t-1}| + their mean) + floor)."""
    terms = np.abs(expected) + before
    return C * (unit * (terms + terms.mean()) + floor)


def _tensor_state(run, t, k):
    """{name: tensor k's values} of the state the implementation held after step t (0: none yet)."""
    if t == 0:
        return {}
    return {name: values[k] for name, values in run.local_state[t - 1].items() if values[k] is not None}


def state_names(module, case):
    """Every state entry but step the reference keeps for some tensor of the case: what a step walks from."""
    names = []
    for shape, hp in zip(case.shapes, case.tensor_hyperparameters()):
        for name in trajectory.initial_state(module, int(np.prod(shape)), shape, hp):
            if name != "step" and name not in names:
                names.append(name)
    return tuple(names)


def out_of_range(case, dtype):
    """Why the case's numbers do not fit the dtype (a skip reason), or None. float16 ends at 65504,
    which squared gradients pass long before the state does (a second moment squares them first)."""
    squared = float(np.abs(case.grads).max()) ** 2
    largest = max(float(np.abs(case.params).max()), squared,
                  *(float(np.abs(v).max(initial=0.0)) for v in case.state.values()))
    if largest > LARGEST[dtype] / 4:
        return (f"the case's values (squared gradients included) reach {largest:.3g}, beyond a quarter of "
                f"{dtype}'s largest number ({LARGEST[dtype]:g}): a run there overflows by design, as AMP's loss "
                "scaling exists to avoid")
    return None


def emulated(case, dtype, store=None, store_params=True):
    """The golden case walked again by its reference from its start and on its gradients rounded to
    ``dtype``, as an implementation of that dtype is given them (replay): the golden of a float32 run
    with master weights. ``store`` (reference.storage.rounder) rounds what each step keeps, the
    parameters too where ``store_params`` (reference.trajectory.run)."""
    from dataclasses import replace

    import torch

    from optgold.reference import problems
    from optgold.runner import DTYPES

    rounded = torch.tensor(case.grads).to(DTYPES[dtype]).double().numpy()
    start = torch.tensor(case.params[0]).to(DTYPES[dtype]).double().numpy()  # the parameters it starts from
    params, _, states = trajectory.run(reference.get(case.reference), problems.get(case.problem, case.negate), case.hp,
                                       case.steps, grads=rounded.tolist(), start=start.tolist(), store=store,
                                       store_params=store_params, **case.run_args())
    return replace(case, params=np.array(params), grads=rounded,
                   state={name: np.array(states[name]) for name in case.state})
