"""The pytest plugin: one item per golden case, failures and skips reported as such."""
import os
import textwrap
from pathlib import Path

import pytest

from optgold.golden.load import load_cases

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def project_on_path(monkeypatch):
    """The pytest runs below are subprocesses (torch registers native ops once per process);
    they find the project, and its plugin entry point, like the installed package does."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def test_each_case_is_its_own_item(pytester):
    pytester.makepyfile(textwrap.dedent("""
        import pytest

        @pytest.mark.optgold(impl="torch.optim:SGD", reference="sgd", dtype="float32")
        def test_sgd(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=2 * len(load_cases("sgd")))
    result.stdout.fnmatch_lines(["*test_sgd?momentum_rotated-replay-float32? PASSED*"])


def test_a_buggy_optimizer_fails_items_with_the_divergent_step(pytester):
    pytester.makepyfile(textwrap.dedent("""
        import pytest, torch

        class NoBiasCorrection(torch.optim.Adam):
            @torch.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    b1, b2 = group["betas"]
                    for p in group["params"]:
                        st = self.state[p]
                        if not st:
                            st["exp_avg"], st["exp_avg_sq"] = torch.zeros_like(p), torch.zeros_like(p)
                        st["exp_avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                        st["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                        p.addcdiv_(st["exp_avg"], st["exp_avg_sq"].sqrt().add_(group["eps"]), value=-group["lr"])

        @pytest.mark.optgold(impl=NoBiasCorrection, reference="adam", modes=("replay",))
        def test_adam(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess()
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*diverge at step 1*"])


def test_not_implemented_configs_are_skipped(pytester):
    pytester.makepyfile(textwrap.dedent("""
        import pytest, torch

        def plain_sgd(params, momentum=0.0, **hp):
            if momentum:
                raise NotImplementedError("no momentum here")
            return torch.optim.SGD(params, **hp)

        @pytest.mark.optgold(impl=plain_sgd, reference="sgd", modes=("replay",))
        def test_sgd(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess("-rs")
    outcomes = result.parseoutcomes()
    assert outcomes["skipped"] >= 1 and outcomes["passed"] >= 1
    result.stdout.fnmatch_lines(["*no momentum here*"])


def test_missing_marker_is_a_usage_error(pytester):
    pytester.makepyfile("def test_x(optgold_case):\n    pass\n")
    result = pytester.runpytest_subprocess()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*has no @pytest.mark.optgold*"])


def test_schedulers_and_averaging_get_an_item_per_case_too(pytester):
    from optgold.golden.schedules import GRID
    from optgold.kinds.averaging import CASES

    pytester.makepyfile(textwrap.dedent("""
        import pytest, torch
        from torch.optim.swa_utils import AveragedModel

        class LateByOne(torch.optim.lr_scheduler.StepLR):
            def get_lr(self):
                if self.last_epoch > 0 and self.last_epoch % self.step_size == 1:  # BUG: decays one step late
                    return [g["lr"] * self.gamma for g in self.optimizer.param_groups]
                return [g["lr"] for g in self.optimizer.param_groups]

        @pytest.mark.optgold(impl="torch.optim.lr_scheduler:CosineAnnealingLR", reference="cosine_annealing_lr")
        def test_cosine(optgold_case):
            optgold_case.assert_passes()

        @pytest.mark.optgold(impl=LateByOne, reference="step_lr")
        def test_late(optgold_case):
            optgold_case.assert_passes()

        @pytest.mark.optgold(impl=AveragedModel, reference="ema", dtype="float32")
        def test_ema(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess("-v")
    outcomes = result.parseoutcomes()
    cosine, step, ema = len(GRID["cosine_annealing_lr"]), len(GRID["step_lr"]), len(CASES["ema"])
    assert outcomes["passed"] == cosine + ema and outcomes["failed"] == step
    case = GRID["cosine_annealing_lr"][0].id
    result.stdout.fnmatch_lines([f"*test_cosine?{case}-schedule-float64? PASSED*",
                                 f"*test_ema?{CASES['ema'][0].id}-average-float32? PASSED*",
                                 "*lr diverges at step *"])
