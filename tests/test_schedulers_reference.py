"""The scheduler references: standard library only, generic over the number type, and a grid on
which every hyperparameter and every named variant matters.

"Matters" is judged with the check's own tolerance: a variant or a changed hyperparameter
counts as seen when it moves some case's sequence outside the bound a correct
implementation is held to; a variant marked EQUIVALENT (rounding only) must stay inside.
"""
import ast
import math
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

from optgold.golden import schedules
from optgold.golden.schedules import GRID, load_cases, reference_groups, run_reference
from optgold.reference import schedulers
from optgold.reference.schedulers import _common, functions
from optgold.kinds import scheduler as schedule_check

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "reference" / "schedulers").glob("*.py"))
NAMES = sorted(schedulers.SCHEDULERS)

# Alternatives for string and None-valued hyperparameters; numbers are scaled, flags flipped.
CHOICES = {"mode": ["min", "max", "triangular", "triangular2", "exp_range"], "threshold_mode": ["rel", "abs"],
           "anneal_strategy": ["cos", "linear"], "scale_mode": ["cycle", "iterations"]}
WHEN_NONE = {"step_size_down": [2, 7], "scale_fn": ["inverse_cycle", "decay_0.98"], "total_steps": [30],
             "epochs": [5], "steps_per_epoch": [7]}


def test_every_module_is_registered():
    modules = {p.stem for p in SOURCES} - {"__init__", "_common", "functions"}
    assert modules == set(schedulers.SCHEDULERS)
    for name, module in schedulers.SCHEDULERS.items():
        assert module.TORCH.startswith(("torch.optim.lr_scheduler:", "torch.optim.swa_utils:"))
        assert list(module.VARIANTS)[0] == "torch" and len(module.VARIANTS) >= 3
        assert set(module.EQUIVALENT) < set(module.VARIANTS) and set(module.REQUIRED) <= set(module.DEFAULTS)
        assert module.QUANTITIES in (("lr",), ("lr", "momentum"))


def test_sources_import_only_stdlib_and_reference():
    allowed = set(sys.stdlib_module_names) | {"reference"}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert {n.split(".")[0] for n in names} <= allowed, (path.name, names)
            assert not (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
                        in ("__import__", "import_module")), path.name


def test_importing_the_schedulers_loads_only_stdlib_modules():
    code = ("import json, sys\nbefore = set(sys.modules)\nimport reference.schedulers\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT)}).stdout
    assert set(eval(out)) <= set(sys.stdlib_module_names) | {"reference"}


def test_generic_pi_and_cos_keep_mpmath_precision():
    with mpmath.workdps(50):
        assert abs(_common.pi(mpmath.mpf) - mpmath.pi) < mpmath.mpf(10) ** -48
        for x in ("0", "0.3", "3.14", "-2.5", "40.1", "123.456"):
            value = _common.cos(mpmath.mpf(x))
            assert isinstance(value, mpmath.mpf) and abs(value - mpmath.cos(mpmath.mpf(x))) < mpmath.mpf(10) ** -45
    assert _common.pi(float) == math.pi and _common.cos(1.0) == math.cos(1.0)


@pytest.mark.parametrize("name", NAMES)
def test_mpf_run_stays_mpf_and_certifies_the_golden(name):
    """The same formulas at 50 digits take the same branches: the golden is off by rounding only."""
    for case in GRID[name]:
        with mpmath.workdps(50):
            exact = run_reference(case, num=mpmath.mpf)
        rows = run_reference(case)
        for q, values in exact.items():
            assert all(isinstance(v, mpmath.mpf) for row in values for v in row), (case.id, q)
            scale = max(abs(v) for row in rows[q] for v in row)
            error = max(abs(a - b) for ra, rb in zip(rows[q], values) for a, b in zip(ra, rb))
            assert error <= 64 * 2.0 ** -53 * scale, (case.id, q, float(error / scale))


def _candidate_used(case, rows):
    """The check's worst |error| / bound of these rows against the case's golden."""
    _, _, used = schedule_check.judge(case, {q: np.array(r, dtype=np.float64) for q, r in rows.items()})
    return used


@pytest.mark.parametrize("name", NAMES)
def test_every_variant_is_seen_and_every_equivalent_form_passes(name):
    module = schedulers.get(name)
    for variant in module.VARIANTS:
        if variant == "torch":
            continue
        used = []
        for case in load_cases(name):
            try:
                used.append(_candidate_used(case, run_reference(schedule_check._golden_case_view(case), variant)))
            except ArithmeticError:
                used.append(math.inf)  # blows up on this case: seen
        if variant in module.EQUIVALENT:
            assert max(used) <= schedule_check.CALIBRATED_WORST, (variant, used)
        else:
            assert max(used) > 1e6, f"{name}/{variant}: no case moves it beyond the tolerance ({used})"


def perturbations(key, value, module):
    if key in getattr(module, "CALLABLES", ()) and value is not None:
        first = value[0] if isinstance(value, list) else value
        others = [f for f in functions.FUNCTIONS if f != first]
        return [[f] + value[1:] for f in others] if isinstance(value, list) else others
    if key in getattr(module, "SUB_SCHEDULERS", ()):
        return [value[:-1], value[::-1]]
    if value is None:
        return WHEN_NONE.get(key, [])
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, str):
        return [c for c in CHOICES[key] if c != value]
    if isinstance(value, int):
        return [value + 1, value - 1] if value > 1 else [value + 1, 1e-3]
    if isinstance(value, float):
        return [value * 0.7, value * 1.5] if value else [0.01]
    if isinstance(value, list):
        return [[x] + value[1:] for x in perturbations(key, value[0], module)]
    raise TypeError(f"{key}={value!r}")


@pytest.mark.parametrize("name", NAMES)
def test_every_hyperparameter_matters(name):
    """Changing any one hyperparameter moves some case's golden beyond the tolerance."""
    module = schedulers.get(name)
    cases = load_cases(name)
    for key in module.DEFAULTS:
        seen = False
        for case in cases:
            for alternative in perturbations(key, case.hp[key], module):
                try:
                    rows = schedulers.schedule(name, reference_groups(case.optimizer), case.steps,
                                               {**case.hp, key: alternative}, metrics=case.metrics)
                except (ArithmeticError, ValueError, TypeError, KeyError, IndexError):
                    continue  # not a valid configuration
                seen = seen or _candidate_used(case, rows) > 1e6
        assert seen, f"{name}: no case is sensitive to {key}"


def test_grid_uses_two_groups_with_different_base_lrs_and_both_optimizers():
    for optimizer in schedules.OPTIMIZERS:
        groups = reference_groups(optimizer)
        assert len(groups) == 2
        assert groups[0]["lr"] != groups[1]["lr"] and groups[0]["momentum"] != groups[1]["momentum"]
    used = {case.optimizer for cases in GRID.values() for case in cases}
    assert used == {"sgd", "adam"}


def test_reduce_lr_on_plateau_grid_covers_modes_thresholds_and_cooldown():
    hps = [case.hp for case in GRID["reduce_lr_on_plateau"]]
    assert {(hp["mode"], hp["threshold_mode"]) for hp in hps} == {("min", "rel"), ("min", "abs"), ("max", "rel"),
                                                                 ("max", "abs")}
    assert any(hp["cooldown"] for hp in hps) and any(isinstance(hp["min_lr"], list) for hp in hps)
    assert all(case.metrics is not None and len(case.metrics) == case.steps for case in GRID["reduce_lr_on_plateau"])


def test_registry_errors_name_the_known_entries():
    with pytest.raises(schedulers.UnknownScheduler, match="known: chained_scheduler"):
        schedulers.get("StepLR")
    with pytest.raises(ValueError, match="required hyperparameters missing: step_size"):
        schedulers.schedule("step_lr", reference_groups("sgd"), 3, {})
    with pytest.raises(ValueError, match="unknown variant"):
        schedulers.schedule("step_lr", reference_groups("sgd"), 3, {"step_size": 2}, variant="nope")
