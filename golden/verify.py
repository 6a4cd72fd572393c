"""Goldens that prove themselves: before a case judges anything, its reference walks it again.

The manifest's sha256 proves that a file is the one the manifest lists, not that its
numbers are what the reference computes: a value changed in an archive, with the hash
updated to match, would make a correct implementation look wrong. So each case is
walked again, in plain Python, from its stored inputs (start, hyperparameters, param
groups, LR schedule and the stored gradients, in replay form, as the check's replay
mode feeds them), every stored gradient is compared with the problem's gradient at the
stored params, and a golden that its reference does not reproduce is refused as corrupt
(GoldenError), naming the file, the case, the array, the step and the command that
rebuilds it.

Exact, up to a rounding allowance. On the interpreter that generated a golden, the walk
reproduces it bit for bit (``optgold generate --check`` proves the same of whole files).
Elsewhere it need not: Python 3.12 made ``sum()`` of floats compensated, so every
gradient of a quadratic, and the norms inside Lamb, Muon and Adafactor, round
differently than on 3.11, and a platform's libm may round pow or cos otherwise. A
stored number is therefore accepted if it equals the walk's, or differs by at most
ALLOWANCE times a model of the rounding in one float64 evaluation:

- params and state of a replay walk: the unit roundoff times the magnitudes summed over
  the steps so far, the model of the replay tolerance (suite/tolerance.py) without its
  margin C;
- a gradient: n unit roundoffs times the magnitude of its terms (the gradient evaluated
  on |x|, with every subtraction an addition), the classic bound for a sum of n terms;
- a closure optimizer (LBFGS), whose walk is a free run: the same plus the golden's
  measured float64 drift, how far rounding carries the run.

Measured between goldens made on Python 3.11 and walks on 3.12 and 3.13, over every
reference: at most 1.22 of the replay model, 1.26 of the free-walk model (LBFGS) and 0.2
of the gradient model. ALLOWANCE = 2 leaves room for that, and stays well inside what a
correct implementation is allowed: a change that passes moves replay params by at most a
quarter of the float64 replay tolerance (C = 8 times the same model), and a gradient by
what rounding in its own sums may do, as a correct free run's gradients do every step.

Drift is walked too. A golden's drift and state_drift (per dtype: how far a run drifts
when every parameter and gradient takes seeded random errors of that dtype's rounding)
set the free-run tolerance and the horizon where free judging stops, so a shrunk drift
would fail a correct implementation and an inflated one would widen its tolerance. They
are measured again with golden/generate.py's own rounding_drift, the same seeds from the
stored params and state, and compared:

- where the file's walk above reproduced every stored param, state and gradient bit for
  bit, this interpreter rounds as the generator did, and the drift must be reproduced
  exactly, at every step;
- elsewhere (another interpreter's sum(), another libm) the perturbed runs round
  differently too, by a u-sized perturbation of a perturbed run, which the dynamics carry
  as far as they carry the measured float64 drift. A stored drift is accepted within
  ALLOWANCE times the free-walk model (the params or state model above plus the running
  maximum of the walk's own float64 drift, never the stored one, which could widen its own
  allowance), plus DRIFT_RELATIVE of the walk's drift, up to the step where the walk's drift
  sets the free-run horizon (suite/tolerance.py; beyond it no drift value is used).
  Measured with 3.12's compensated sum() against the 3.11 goldens, over every reference:
  at most 1.87 of the free-walk model, and beyond that at most 1.5e-8 of the drift's own
  value before the horizon (past it chaotic cases differ by up to 5 times, and are not
  compared). So a float32 drift is held to a millionth of itself; a float64 drift, whose
  size is that of the rounding by which interpreters differ, only to about its own size
  there (an inflation of 10 times is caught where the drift is near its running maximum;
  a halving is not).

Not walked: an optimizer golden's 50-digit certificate (mpmath, about a second per case)
is checked only for what it must be: certified errors finite and not negative. A
scheduler golden's certificate is cheap, and is walked exactly.

Each file is walked once per process, remembered by (path, sha256); workers forked
after loading inherit that. Where the walk is exact it costs about a tenth of a second
per optimizer reference (the gradients of the 100-d quadratic dominate); where it is not,
the magnitudes of the gradients' terms are evaluated too, about half a second. Drift's
four perturbed runs per case cost about five times that, measured on 3.11: a fresh
load_cases('adam') 0.11 s -> 0.60 s, every optimizer reference 1.7 s -> 8.9 s (Muon
alone 1.4 s), a cold `optgold check torch.optim:Adam --reference adam` 4.1-4.4 s ->
4.7 s. Every step and dtype is walked: a drift row depends on the whole run before it,
so a subset of steps saves little, and the loader does not know the check's dtype.
"""
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from optgold import reference
from optgold.golden import store
from optgold.golden.certify import DIGITS
from optgold.golden.dtypes import UNIT_ROUNDOFF
from optgold.reference import capabilities, problems, trajectory
from optgold.tolerance import free_run_horizon

ALLOWANCE = 2.0
DRIFT_RELATIVE = 1e-6  # of the walk's drift, beyond ALLOWANCE * the free-walk model: 1.5e-8 measured
U = UNIT_ROUNDOFF["float64"]
WALK_ERRORS = (ArithmeticError, LookupError, TypeError, ValueError)  # stored inputs a reference cannot take
_verified = set()  # (resolved path, sha256) of the files walked in this process
WALKED = "its reference, walked from the stored inputs, gives"


def listed(directory, name, rebuild):
    """The sha256 the manifest lists for ``name`` now (None if none: store.read then says so)."""
    return store.read_manifest(directory, rebuild)["files"].get(name, {}).get("sha256")


def once(directory, name, before, rebuild, walk):
    """Run ``walk()`` unless this file was walked in this process with the hash its manifest listed
    (``before``, read before the file) and still lists: a manifest that changed meanwhile (a
    write under way) may belong to other contents than those read, which are then walked, not
    remembered."""
    key = (str((Path(directory) / name).resolve()), before)
    unchanged = listed(directory, name, rebuild) == before
    if unchanged and key in _verified:
        return
    walk()
    if unchanged:
        _verified.add(key)


def refuse(label, cid, what, rebuild):
    raise store.GoldenError(f"{label}:{cid}: {what}; the file is corrupt or was changed: restore it or regenerate "
                            f"with `{rebuild}`")


def cannot_walk(label, cid, error, rebuild):
    refuse(label, cid, f"its reference cannot walk it from the stored inputs ({type(error).__name__}: "
                       f"{' '.join(str(error).split())})", rebuild)


def first_beyond(stored, walked, model):
    """(row, column, stored, walked) of the first number beyond the allowance (NaN in the walk counts), or None."""
    walked = np.asarray(walked, dtype=np.float64)
    bad = ~(np.abs(walked - stored) <= ALLOWANCE * model)
    if not bad.any():
        return None
    row, column = np.argwhere(bad)[0]
    return int(row), int(column), float(stored[row, column]), float(walked[row, column])


def _params_model(params):
    """u * (|p_0| + sum_{s<t} (|p_{s+1}| + |p_{s+1} - p_s| + mean |p_{s+1} - p_s|)), elementwise."""
    update = np.abs(np.diff(params, axis=0))
    per_step = np.abs(params[1:]) + update + update.mean(axis=1, keepdims=True)
    return U * np.concatenate([np.abs(params[:1]), np.abs(params[:1]) + np.cumsum(per_step, axis=0)])


def _state_model(rows):
    """u * sum_{s<=t} (|s_s| + mean |s_s|), elementwise."""
    s = np.abs(rows)
    mean = s.mean(axis=1, keepdims=True) if s.shape[1] else s[:, :0]
    return U * np.cumsum(s + mean, axis=0)


class _Magnitude:
    """A number that keeps the magnitude of the terms that made it: |a| + |b| for a +- b, |a| |b| for a * b.

    A problem's gradient evaluated on these gives, per element, the sum of the absolute
    values of its terms, the scale of its rounding error (a problem whose gradient uses
    other operations raises TypeError, and gets no allowance).
    """
    __slots__ = ("m",)

    def __init__(self, m):
        self.m = m

    def __add__(self, other):
        return _Magnitude(self.m + (other.m if type(other) is _Magnitude else abs(other)))

    __radd__ = __sub__ = __rsub__ = __add__

    def __mul__(self, other):
        return _Magnitude(self.m * (other.m if type(other) is _Magnitude else abs(other)))

    __rmul__ = __mul__

    def __neg__(self):
        return self

    def __pow__(self, k):
        return _Magnitude(self.m ** k)


def _gradient_model(problem, x, t):
    try:
        terms = problem.gradient([_Magnitude(abs(v)) for v in x], t)
        return U * len(x) * np.array([m.m if type(m) is _Magnitude else abs(m) for m in terms])
    except TypeError:
        return np.zeros(len(x))


def _first_bad_gradient(case, problem):
    """((step, element, stored, problem's) of the first stored gradient that is not the problem's, or None;
    whether every stored gradient is the problem's bit for bit)."""
    params, grads = case.params.tolist(), case.grads.tolist()
    exact = True
    for t in range(case.steps):
        g = problem.gradient(params[t], t)
        if g != grads[t]:
            exact = False
            stored = case.grads[t:t + 1]
            if first_beyond(stored, [g], U * len(g) * np.abs(stored)) is None:
                continue  # within the allowance of the gradient's own size, which its terms' magnitude is at least
            found = first_beyond(stored, [g], _gradient_model(problem, params[t], t)[None, :])
            if found:
                return (t + 1,) + found[1:], False
    return None, exact


def _nonnegative(label, cid, name, values, first_step, rebuild):
    """Refuse a drift (row r is step r + first_step) below 0: it would tighten a tolerance."""
    if (values < 0).any():
        row = int(np.argmax(values < 0))
        refuse(label, cid, f"{name} at step {row + first_step} is {float(values[row])!r}, which cannot be negative",
               rebuild)


def _check_drift(label, cid, case, rebuild):
    for dtype, drift in case.drift.items():
        if drift[0] != 0:
            refuse(label, cid, f"drift/{dtype} at step 0 is {float(drift[0])!r}: a run cannot drift before its "
                               f"first step", rebuild)
        _nonnegative(label, cid, f"drift/{dtype}", drift, 0, rebuild)
        for name, values in sorted(case.state_drift[dtype].items()):
            _nonnegative(label, cid, f"state_drift/{dtype}/{name}", values, 1, rebuild)


def _check_certificate(label, cid, certificate, rebuild):
    if not certificate:
        return  # made without a certificate: the check then adds no certified error
    if certificate.get("digits") != DIGITS:
        refuse(label, cid, f"certificate digits is {certificate.get('digits')!r}, not {DIGITS}", rebuild)
    for key, value in sorted(certificate.items()):
        if key != "digits" and not (type(value) in (int, float) and math.isfinite(value) and value >= 0):
            refuse(label, cid, f"certificate {key} is {value!r}, not a finite number at least 0", rebuild)


def _walk(case, problem, optimizer):
    """(params, {state name: rows}) of the reference's replay from the stored inputs; row 0 is the problem's start."""
    walked, _, states = trajectory.run(optimizer, problem, case.hp, case.steps, grads=case.grads.tolist(),
                                       start=case.params[0].tolist(), **case.run_args())
    walked[0] = list(problem.start)  # the stored start must be the problem's
    return walked, states


def optimizer_case(case, certificate, label, rebuild):
    """Refuse ``case`` (a load.GoldenCase) unless its reference reproduces it from its stored inputs;
    returns whether it reproduced params, state and gradients bit for bit (then drift must be too)."""
    cid = case.id
    try:
        problem = problems.get(case.problem, case.negate)
        optimizer = reference.get(case.reference)
    except WALK_ERRORS as error:  # an unknown problem or reference is a LookupError
        cannot_walk(label, cid, error, rebuild)
    shapes = [tuple(s) for s in problem.shapes]
    if shapes != list(case.shapes):
        refuse(label, cid, f"shapes {list(case.shapes)} are not those of problem {case.problem}, {shapes}", rebuild)
    try:
        walked, states = _walk(case, problem, optimizer)
        bad_gradient, exact = _first_bad_gradient(case, problem)
    except WALK_ERRORS as error:
        cannot_walk(label, cid, error, rebuild)
    kept = {name: np.shape(rows) for name, rows in states.items()}
    if kept != {name: rows.shape for name, rows in case.state.items()}:
        refuse(label, cid, f"state {_shapes(case.state)} is not what its reference keeps, {_shapes(states)}", rebuild)
    model = _params_model(case.params)
    if capabilities.of(optimizer).closure:  # a free run: rounding is carried as far as the golden's drift
        model = model + np.maximum.accumulate(case.drift["float64"])[:, None]
    found = []  # (step, order at that step, array, element, stored, computed, what computed it)
    if bad_gradient:
        found.append((bad_gradient[0], 0, "grads", *bad_gradient[1:], "the problem's gradient at the stored params is"))
    bad = first_beyond(case.params, walked, model)
    if bad:
        found.append((bad[0], 1, "params", *bad[1:], WALKED if bad[0] else "the problem's start is"))
    for name in sorted(case.state):
        bad = first_beyond(case.state[name], states[name], _state_model(case.state[name]))
        if bad:
            found.append((bad[0] + 1, 2, f"state/{name}", *bad[1:], WALKED))
    if found:
        step, _, array, element, stored, value, source = min(found)
        refuse(label, cid, f"{array} at step {step}, element {element}, is {stored!r}, but {source} {value!r}",
               rebuild)
    _check_drift(label, cid, case, rebuild)
    _check_certificate(label, cid, certificate, rebuild)
    return exact and np.array_equal(walked, case.params) and all(
        np.array_equal(states[name], case.state[name]) for name in case.state)


def _shapes(state):
    return ", ".join(f"{name} {tuple(np.shape(rows))}" for name, rows in sorted(state.items())) or "none"


def optimizer_cases(cases, certificates, label, rebuild):
    """Refuse the first of ``cases`` that its reference does not reproduce; ``certificates`` by case id.

    Drift is walked after every case's params, state and gradients: one inexact case shows
    this interpreter rounds otherwise than the generator, and then no drift of the file is
    held to exactness."""
    exact = True
    for case in cases:
        exact = optimizer_case(case, certificates.get(case.id, {}), label, rebuild) and exact
    for case in cases:
        drift_case(case, exact, label, rebuild)


def _derived_drift(case, problem, optimizer):
    """{dtype: (drift, {state name: state drift})} as golden/generate.py measures them, from the stored
    params and state (imported here: generate imports schedules, which imports this module)."""
    from optgold.golden.generate import rounding_drift
    states = {name: rows.tolist() for name, rows in case.state.items()}
    return {dtype: rounding_drift(optimizer, problem, case.hp, case.steps, case.params.tolist(), states, unit,
                                  case.run_args())
            for dtype, unit in UNIT_ROUNDOFF.items()}


def _judged_steps(case, dtype, drift):
    """How many drift rows the free run's judgement reads, per the walk's drift: through the step
    whose drift sets the horizon (state rows, one per step from step 1, through the horizon)."""
    last = free_run_horizon(replace(case, drift={dtype: drift}), dtype)
    return min(last + 2, case.steps + 1), last


def _first_drift_beyond(stored, walked, model, exact, judged):
    """(row, stored, walked) of the first drift not reproduced, or None: exactly, or (``exact`` False)
    within ALLOWANCE * model + DRIFT_RELATIVE * walked over the first ``judged`` rows."""
    if exact:
        bad = stored != walked
    else:
        bad = ~(np.abs(stored - walked) <= ALLOWANCE * model + DRIFT_RELATIVE * walked)
        bad[judged:] = False
    if not bad.any():
        return None
    row = int(np.argmax(bad))
    return row, float(stored[row]), float(walked[row])


def drift_case(case, exact, label, rebuild):
    """Refuse ``case`` unless its stored drift and state_drift are what golden/generate.py measures
    again: exactly where ``exact`` (the walk reproduced the file bit for bit), else within the allowance."""
    problem, optimizer = problems.get(case.problem, case.negate), reference.get(case.reference)
    try:
        derived = _derived_drift(case, problem, optimizer)
    except WALK_ERRORS as error:
        cannot_walk(label, case.id, error, rebuild)
    walked64, walked64_state = derived["float64"]
    params_model = _params_model(case.params).max(axis=1) + np.maximum.accumulate(walked64)
    found = []  # (step, array, stored, walked)
    for dtype, (drift, state_drift) in derived.items():
        judged, last = _judged_steps(case, dtype, drift) if not exact else (case.steps + 1, case.steps)
        bad = _first_drift_beyond(case.drift[dtype], drift, params_model, exact, judged)
        if bad:
            found.append((bad[0], f"drift/{dtype}", *bad[1:]))
        for name in sorted(case.state_drift[dtype]):
            model = _state_model(case.state[name]).max(axis=1) + np.maximum.accumulate(walked64_state[name])
            bad = _first_drift_beyond(case.state_drift[dtype][name], state_drift[name], model, exact, last)
            if bad:
                found.append((bad[0] + 1, f"state_drift/{dtype}/{name}", *bad[1:]))
    if found:
        step, array, stored, value = min(found)
        refuse(label, case.id, f"{array} at step {step} is {stored!r}, but {WALKED} {value!r} (its seeded "
                               f"perturbed runs, as golden/generate.py measures drift)", rebuild)
