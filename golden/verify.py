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

Not walked: an optimizer golden's drift (four perturbed runs, about three times the
rest) and its 50-digit certificate (mpmath, about a second per case) are checked only
for what they must be: drift 0 at the start and never negative, certified errors finite
and not negative. A scheduler golden's certificate is cheap, and is walked exactly.

Each file is walked once per process, remembered by (path, sha256); workers forked
after loading inherit that. Where the walk is exact it costs about a tenth of a second
per optimizer reference (the gradients of the 100-d quadratic dominate); where it is not,
the magnitudes of the gradients' terms are evaluated too, about half a second.
"""
import math
from pathlib import Path

import numpy as np

from optgold import reference
from optgold.golden import store
from optgold.golden.certify import DIGITS
from optgold.golden.dtypes import UNIT_ROUNDOFF
from optgold.reference import capabilities, problems, trajectory

ALLOWANCE = 2.0
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
    """(step, element, stored, problem's) of the first stored gradient that is not the problem's, or None."""
    params, grads = case.params.tolist(), case.grads.tolist()
    for t in range(case.steps):
        g = problem.gradient(params[t], t)
        if g != grads[t]:
            stored = case.grads[t:t + 1]
            if first_beyond(stored, [g], U * len(g) * np.abs(stored)) is None:
                continue  # within the allowance of the gradient's own size, which its terms' magnitude is at least
            found = first_beyond(stored, [g], _gradient_model(problem, params[t], t)[None, :])
            if found:
                return (t + 1,) + found[1:]
    return None


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
    """Refuse ``case`` (a load.GoldenCase) unless its reference reproduces it from its stored inputs."""
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
        bad_gradient = _first_bad_gradient(case, problem)
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


def _shapes(state):
    return ", ".join(f"{name} {tuple(np.shape(rows))}" for name, rows in sorted(state.items())) or "none"


def optimizer_cases(cases, certificates, label, rebuild):
    """Refuse the first of ``cases`` that its reference does not reproduce; ``certificates`` by case id."""
    for case in cases:
        optimizer_case(case, certificates.get(case.id, {}), label, rebuild)
