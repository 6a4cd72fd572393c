"""--compile: a torch optimizer's step under torch.compile (inductor on CPU), judged on the same goldens."""
import pytest
import torch

from optgold.adapters.compiled import CompiledTorchAdapter
from optgold.check import check
from tests.mutants import adam_mutants


SOME = ("betas_rosenbrock", "eps_rosenbrock", "warm_restarts_rosenbrock")  # each compile costs seconds on CPU


def _failed(report):
    return [c for c in report.cases if c.status == "failed"]


def test_compiled_adam_passes_the_float64_grid_and_reports_its_compiling():
    report = check(torch.optim.Adam, "adam", compile=True, modes=("replay",), contracts="none", cases=SOME)
    assert report.passed and max(c.tolerance_used for c in report.cases) < 0.5, [c.message for c in _failed(report)]
    assert report.settings["adapter"] == "compiled"
    notes = [c.message for c in report.cases]
    assert all("compiled with torch.compile (inductor): 1 graph(s) in 1 step(s), 0 recompile(s)" in n for n in notes)
    # a schedule changes the lr tensor's value, not the graph: the warm-restart case compiles once


def test_compiled_adam_in_float32_computes_its_bias_corrections_in_float32():
    """Under torch.compile, torch's Adam keeps the step count a float32 tensor, and 1 - 0.999^t is a
    float32 difference (eager reads the step as a Python float): the beta2 = 0.999 cases fail at step 1,
    nearest to the float32_bias_correction variant (named outright only where rounding allows: not in a
    float32 run, whose own rounding is 1e-3 of the distance to the reference)."""
    report = check(torch.optim.Adam, "adam", compile=True, dtype="float32", modes=("replay",), contracts="none",
                   cases=SOME)
    failed = _failed(report)
    assert {c.id for c in failed} == {"eps_rosenbrock", "warm_restarts_rosenbrock"}  # beta2 0.999; lr 0.01 and 0.02
    assert all(c.first_divergent_step == 1 for c in failed)
    assert all(c.diagnosis.nearest[0][0] == "float32_bias_correction" for c in failed)


class AdamLrReadOnce(adam_mutants.Adam):
    """Reads each group's lr once, as a Python number, at its first step: a graph compiled around it
    keeps it, and a schedule is ignored (pytorch#106802's kind of bug)."""

    def update(self, p, grad, state, group):
        group.setdefault("first_lr", float(group["lr"]))
        super().update(p, grad, state, {**group, "lr": group["first_lr"]})  # BUG: the lr of step 1 forever


def test_an_lr_baked_in_at_the_first_step_is_caught_under_compile():
    report = check(AdamLrReadOnce, "adam", compile=True, modes=("replay",), contracts="none",
                   cases=("betas_rosenbrock", "warm_restarts_rosenbrock"))
    failed = _failed(report)
    assert [c.id for c in failed] == ["warm_restarts_rosenbrock"]


def test_a_closure_is_not_compiled():
    with pytest.raises(NotImplementedError, match="compiles steps fed one gradient"):
        CompiledTorchAdapter.step_closure(None, None)


@pytest.mark.parametrize("name, words", [
    ("adadelta", "state step diverge at step 1, tensor 0[]: observed 0, expected 1"),
    ("asgd", "eta diverge at step 1"),
])
def test_compiled_steps_that_lose_their_scalar_state_in_float64_are_caught(name, words):
    """torch 2.13: under a float64 default dtype, compiled Adadelta (RMSprop, Rprop too) never advances
    its step tensor and compiled ASGD never updates eta (README, "Compiled steps"); float32 passes."""
    from optgold.golden.load import load_cases

    first = load_cases(name)[0].id
    report = check(getattr(torch.optim, {"adadelta": "Adadelta", "asgd": "ASGD"}[name]), name, compile=True,
                   modes=("replay",), contracts="none", cases=(first,))
    assert [c.status for c in report.cases] == ["failed"] and words in report.cases[0].message
