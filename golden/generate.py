"""Write the goldens from the reference formulas, or prove the stored ones are reproduced."""
import random
import tempfile
from pathlib import Path

import numpy as np

from optgold import reference
from optgold.golden import contracts, schedules, store
from optgold.golden.certify import certificate
from optgold.golden.dtypes import UNIT_ROUNDOFF
from optgold.golden.grid import GRID, grid_of
from optgold.reference import problems, trajectory

GENERATOR_VERSION = "3"


class _RoundedGradients:
    """The problem, with each nonzero gradient entry off by what rounding a length-n sum
    may do: sqrt(n) * unit * (|g_i| + mean |g|), with a random sign; values (for optimizers
    that evaluate the loss, LBFGS) off by one rounding."""

    def __init__(self, problem, unit, rng):
        self.problem, self.unit, self.rng = problem, unit, rng
        self.shapes, self.start = problem.shapes, problem.start

    def value(self, x):
        f = self.problem.value(x)
        return f + self.unit * abs(f) * self.rng.choice((-1.0, 1.0))

    def gradient(self, x, step):
        g = self.problem.gradient(x, step)
        size = self.unit * len(g) ** 0.5
        mean = sum(abs(v) for v in g) / len(g)
        signs = [self.rng.choice((-1.0, 1.0)) for _ in g]  # one draw per entry, zero or not
        # an exact zero is an absent entry of a sparse gradient, which rounding cannot make present
        return [v + size * (abs(v) + mean) * e if v != 0 else v for v, e in zip(g, signs)]


def rounding_drift(optimizer, problem, hp, steps, params, states, unit, run_args):
    """Per step: how far a run drifts from the golden when every parameter and every
    gradient takes a random error of the size rounding in that dtype makes (worst of
    two seeds); returns (parameter drift, {state name: state drift}).

    This measures what rounding does to a free run: the errors add up, the
    problem's dynamics damp or amplify them, and in a chaotic case they saturate.
    State follows the gradients it is built from (a normalised state such as
    Adadelta's acc_delta follows their relative error), so it is measured too.
    Free-run tolerances and the horizon where judging stops come from it.
    """
    base = np.array(params)
    drift = np.zeros(steps + 1)
    state_drift = {name: np.zeros(steps) for name in states}
    for seed in (1, 2):
        rng = random.Random(seed)

        def inject(t, tensors):
            for tensor in tensors:
                for i, x in enumerate(tensor):
                    tensor[i] = x + unit * abs(x) * rng.choice((-1.0, 1.0))

        rounded = _RoundedGradients(problem, unit, rng)
        perturbed, _, perturbed_states = trajectory.run(optimizer, rounded, hp, steps, after_step=inject, **run_args)
        drift = np.maximum(drift, np.abs(np.array(perturbed) - base).max(axis=1))
        for name, rows in states.items():
            difference = np.abs(np.array(perturbed_states[name]) - np.array(rows)).max(axis=1, initial=0.0)
            state_drift[name] = np.maximum(state_drift[name], difference)
    return drift, state_drift


def case_record(ref_name, case, certify=True):
    """(meta, arrays) of one case. ``certify``: True computes its 50-digit certificate, False
    leaves it out, and a dict is a certificate already made (stored_certificates) taken as it is."""
    optimizer = reference.get(ref_name)
    problem = problems.get(case.problem, case.negate)
    groups = [dict(g) for g in case.groups] or None
    run_args = {"groups": groups, "schedule": case.schedule, "events": case.events}
    params, grads, states = trajectory.run(optimizer, problem, case.hp, case.steps, **run_args)
    meta = {
        "id": case.id, "problem": case.problem, "negate": case.negate, "steps": case.steps,
        "hp": case.hp, "shapes": [list(s) for s in problem.shapes], "state_names": sorted(states),
    }
    if groups:
        meta["groups"] = groups
    if case.schedule:
        meta["schedule"] = case.schedule
    if case.events:
        meta["events"] = case.events
    if isinstance(certify, dict):
        meta["certificate"] = certify
    elif certify:
        meta["certificate"] = certificate(optimizer, problem, case.hp, case.steps, params, grads, run_args)
    arrays = {f"{case.id}/params": np.array(params), f"{case.id}/grads": np.array(grads)}
    for dtype, unit in UNIT_ROUNDOFF.items():
        drift, state_drift = rounding_drift(optimizer, problem, case.hp, case.steps, params, states, unit, run_args)
        arrays[f"{case.id}/drift/{dtype}"] = drift
        for name, values in state_drift.items():
            arrays[f"{case.id}/state_drift/{dtype}/{name}"] = values
    for name, rows in states.items():
        arrays[f"{case.id}/state/{name}"] = np.array(rows)
    return meta, arrays


def build(names=None, certify=True, progress=None):
    """{file name: (meta, arrays)} for the named references, optimizers and schedulers (default: all).

    ``certify``: True or False, or {file name: {case id: certificate}} of optimizer goldens whose
    stored certificates are taken instead of made again (a case without one is certified)."""
    scheduler_names = None if names is None else [n for n in names if n in schedules.GRID]
    files = schedules.build(scheduler_names, bool(certify), progress) if scheduler_names != [] else {}
    for ref_name in GRID if names is None else [n for n in names if n not in schedules.GRID]:
        for name, grid_cases in ((f"{ref_name}.npz", grid_of(ref_name)),
                                 (contracts.FILE.format(ref_name), contracts.grid(ref_name))):
            if grid_cases:
                files[name] = _file(ref_name, grid_cases, _certificates(certify, name), progress)
    return files


def _certificates(certify, name):
    return (lambda case: certify.get(name, {}).get(case.id, True)) if isinstance(certify, dict) else (
        lambda case: certify)


def stored_certificates(directory):
    """{file name: {case id: certificate}} of the optimizer goldens stored in ``directory``."""
    found = {}
    for name in store.read_manifest(directory)["files"]:
        if not name.startswith(schedules.FILE.split("{")[0]) and name.endswith(".npz"):
            meta, _ = store.read(directory, name)
            found[name] = {m["id"]: m["certificate"] for m in meta.get("cases", ()) if "certificate" in m}
    return found


def _file(ref_name, grid_cases, certify, progress):
    metas, arrays = [], {}
    for case in grid_cases:
        meta, case_arrays = case_record(ref_name, case, certify(case))
        metas.append(meta)
        arrays.update(case_arrays)
        if progress:
            progress(ref_name, case.id)
    return {"reference": ref_name, "cases": metas}, arrays


def generate(directory, progress=None, names=None, certify=True):
    """Write every golden, or only the named references' (keeping the others in the manifest)."""
    return store.write(directory, build(names, certify, progress), GENERATOR_VERSION, merge=names is not None)


def check(directory, progress=None, names=None, stored_certificates_kept=False):
    """Regenerate into a scratch folder (every golden, or the named references'); returns
    {file: problem} for files not reproduced.

    ``stored_certificates_kept``: the optimizer goldens' 50-digit certificates (nine tenths of
    the time) are taken from the stored files instead of made again, so everything else in
    them is proved reproduced, and the certificates only as loading checks them (finite, not
    negative)."""
    stored = store.read_manifest(directory)
    certify = stored_certificates(directory) if stored_certificates_kept else True
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(scratch, progress, names, certify)
    problems_found = {}
    for name, entry in fresh["files"].items():
        if name not in stored["files"]:
            problems_found[name] = "missing from the stored manifest"
        elif stored["files"][name]["sha256"] != entry["sha256"]:
            problems_found[name] = "stored sha256 differs from the regenerated file"
        elif not (Path(directory) / name).is_file():
            problems_found[name] = "listed in the manifest but the file is missing"
        elif store.sha256((Path(directory) / name).read_bytes()) != entry["sha256"]:
            problems_found[name] = "stored file does not match its manifest"
    for name in set(stored["files"]) - set(fresh["files"]) if names is None else ():
        problems_found[name] = "stored but no longer generated"
    if stored.get("generator_version") != GENERATOR_VERSION:
        problems_found[store.MANIFEST] = f"generator version {stored.get('generator_version')} != {GENERATOR_VERSION}"
    return problems_found
