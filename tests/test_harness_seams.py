"""The harness's seams, as architecture rules: one registry of kinds, one of adapters, and the
rules every kind shares (skip, failure capture, conclusion) written once, in optgold.check."""
import ast
import inspect
import re
from pathlib import Path

import pytest

from optgold import adapters, kinds
from optgold.check import Options, check, check_case
from optgold.kinds.base import Run

SUITE = Path(__file__).resolve().parent.parent / "suite"
KIND_PROTOCOL = ("NAME", "TIMEOUT_PER_STEP", "TIMEOUT", "BUDGET", "MODES", "GRID_DTYPES", "references", "cases", "modes", "not_applicable",
                 "start", "report_extra", "listing", "torch_implementations")
ADAPTER_PROTOCOL = ("step", "step_closure", "flat_params", "flat_state", "step_counts", "set_lr",
                    "hyperparameter_groups")
SCHEDULE_ADAPTER_PROTOCOL = ("rows",)  # a schedule adapter (SCHEDULES), which the scheduler kind drives


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_every_kind_provides_the_protocol(name):
    kind = kinds.KINDS[name]
    missing = [attr for attr in KIND_PROTOCOL if not hasattr(kind, attr)]
    assert not missing, f"kind {name} lacks {missing}"
    assert kind.NAME == name and kind.references()


@pytest.mark.parametrize("name", sorted(adapters.ADAPTERS))
def test_every_adapter_provides_the_protocol(name):
    cls = adapters.ADAPTERS[name]
    protocol = SCHEDULE_ADAPTER_PROTOCOL if getattr(cls, "SCHEDULES", False) else ADAPTER_PROTOCOL
    missing = [m for m in protocol if not callable(getattr(cls, m, None))]
    assert not missing, f"adapter {name} lacks {missing}"


def test_each_reference_belongs_to_one_kind():
    seen = {}
    for kind in kinds.KINDS.values():
        if kind.NAME == "network":  # the CIFAR run of optimizer references, chosen by --problem cifar
            assert set(kind.references()) <= set(kinds.KINDS["optimizer"].references())
            continue
        for ref in kind.references():
            assert ref not in seen, f"{ref} is both {seen[ref]} and {kind.NAME}"
            seen[ref] = kind.NAME
    assert kinds.kind_of("adam").NAME == "optimizer" and kinds.kind_of("step_lr").NAME == "scheduler"
    assert kinds.kind_of("ema").NAME == "averaging" and kinds.kind_of("adam", "cifar").NAME == "network"
    with pytest.raises(KeyError):
        kinds.kind_of("no_such_reference")


def _sources():
    return {p: p.read_text() for p in SUITE.rglob("*.py")}


@pytest.mark.parametrize("rule, pattern, home", [
    ("the skip rule", r"failure\.kind == \"not_implemented\" and failure\.step", "check.py"),
    ("the failure capture of a hang", r"Failure\(_timeout_message", "isolation.py"),
    ("the failure capture of an ended process", r"def _ended\(", "isolation.py"),
    ("the conclusion", r"result\.status = \"passed\"", "check.py"),
])
def test_shared_rules_are_written_once(rule, pattern, home):
    found = {p.relative_to(SUITE).as_posix() for p, text in _sources().items() if re.search(pattern, text)}
    assert found == {home}, f"{rule} is written in {sorted(found)}"


@pytest.mark.parametrize("module", ["cli.py", "commands/listing.py", "commands/check.py", "pytest_plugin.py",
                                    "devtools/grid_time.py"])
def test_dispatchers_iterate_the_registry_instead_of_naming_kinds(module):
    tree = ast.parse((SUITE / module).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    named = {m for m in imported if m.startswith("optgold.kinds.")}
    assert not named, f"{module} imports kind modules directly: {sorted(named)}"


def test_no_module_rewrites_another_modules_globals():
    """Assigning into another module's namespace (``module.__dict__.update``, ``setattr(module, ...)``)."""
    offenders = [p.relative_to(SUITE).as_posix() for p, text in _sources().items()
                 if re.search(r"\.__dict__\.update\(|\.__dict__\[[^]]+\]\s*=", text)]
    assert not offenders, offenders


def test_kind_runs_share_the_base_protocol():
    for kind in kinds.KINDS.values():
        starts = inspect.getsource(kind.start)
        assert "Run(" in starts, f"{kind.NAME}.start builds no Run"


class _Counting(Run):
    """A kind's run whose implementation raises at a chosen step: check_case reports, never crashes."""
    RECORDED = ("hyperparameters", "seen")  # the worker process sends these to the judging parent

    def __init__(self, fail_at, error):
        self.fail_at, self.error, self.seen = fail_at, error, 0

    def construct(self):
        if self.fail_at == 0:
            raise self.error

    def steps(self):
        for t in range(1, 4):
            if t == self.fail_at:
                raise self.error
            self.seen = t
            yield [float(t)]

    def judge(self):
        from optgold.check import Judgement

        return Judgement(last_step=self.seen)


class _Case:
    id, reference = "toy", "toy"


class _Kind:
    NAME, TIMEOUT_PER_STEP, TIMEOUT, BUDGET, MODES = "toy", False, 30.0, 300.0, ("only",)

    def __init__(self, run):
        self.run = run

    def not_applicable(self, case, mode, options):
        return None

    def start(self, factory, case, mode, options, earlier):
        return self.run


@pytest.mark.parametrize("fail_at, error, status, text", [
    (0, NotImplementedError("no such config"), "skipped", "not implemented"),
    (1, NotImplementedError("no such config"), "skipped", "not implemented"),
    (2, NotImplementedError("late"), "failed", "raised NotImplementedError at step 2"),
    (0, ValueError("bad lr"), "failed", "construction with"),
    (3, RuntimeError("kernel"), "failed", "raised RuntimeError at step 3"),
    (None, None, "passed", ""),
])
def test_check_case_applies_the_shared_rules_to_any_kind(fail_at, error, status, text):
    result, _ = check_case(_Kind(_Counting(fail_at, error)), None, _Case(), "only", Options())
    assert result.status == status and text in result.message


def test_a_non_finite_value_fails_at_its_step():
    class NaNAt2(_Counting):
        def steps(self):
            yield [1.0]
            yield [float("nan")]
            yield [3.0]

    result, _ = check_case(_Kind(NaNAt2(None, None)), None, _Case(), "only", Options())
    assert result.status == "failed" and result.first_divergent_step == 2 and "non-finite" in result.message


def test_a_hang_times_out_at_its_step():
    class Hangs(_Counting):
        def steps(self):
            yield [1.0]
            while True:
                pass

    result, _ = check_case(_Kind(Hangs(None, None)), None, _Case(), "only", Options(timeout=0.3))
    assert result.status == "failed" and "timed out at step 2" in result.message


def test_a_scheduler_the_case_attaches_that_cannot_drive_the_implementation_is_reported_as_that():
    """A case attaching OneCycleLR (it cycles momentum) on an optimizer with no momentum: the setup fails, and
    the report says so instead of advising NotImplementedError from a factory that never sees the scheduler."""
    import torch

    class NoMomentum(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, **ignored):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            return None

    from optgold.golden.load import load_cases

    (case,) = [c for c in load_cases("sgd") if c.schedule and c.schedule["scheduler"] == "one_cycle_lr"]
    result, _ = check_case(kinds.KINDS["optimizer"], NoMomentum, case, "replay", Options())
    assert result.status == "failed" and "the case attaches torch's OneCycleLR" in result.message
    assert "NotImplementedError" not in result.message


def test_check_reports_the_hyperparameters_a_failing_case_ran_with():
    import torch

    class Wrong(torch.optim.SGD):
        @torch.no_grad()
        def step(self, closure=None):
            super().step(closure)
            for group in self.param_groups:
                for p in group["params"]:
                    p.mul_(1.001)

    report = check(Wrong, "sgd", modes=("replay",), contracts="none")
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed and all("built with" in c.message and "lr=" in c.message for c in failed)
    assert all(c.as_json()["hyperparameters"]["lr"] == c.hyperparameters["lr"] for c in failed)
