"""The pytest plugin: one item per golden case, failures and skips reported as such."""
import os
import textwrap
from pathlib import Path

import pytest

from optgold.check import Options
from optgold.golden.load import load_cases
from optgold.kinds import optimizer

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
    result.assert_outcomes(passed=2 * len(optimizer.cases("sgd", Options())))
    assert len(optimizer.cases("sgd", Options())) > len(load_cases("sgd"))  # the contract cases too
    result.stdout.fnmatch_lines(["*test_sgd?momentum_rotated-replay-float32? PASSED*",
                                 "*test_sgd?resume/after_10-replay-float32? PASSED*"], consecutive=False)


def test_the_marker_selects_contracts(pytester):
    pytester.makepyfile(textwrap.dedent("""
        import pytest

        @pytest.mark.optgold(impl="torch.optim:SGD", reference="sgd", modes=("replay",), contracts="amp")
        def test_sgd(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=len(load_cases("sgd")) + 2)
    result.stdout.fnmatch_lines(["*test_sgd?amp/unscale_then_step-replay-float64? PASSED*"])


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


def test_a_free_item_is_diagnosed_on_its_cases_replay_run_as_the_command_line_does(pytester):
    """The free run of this mutant is explained by a named variant only when diagnosed on the replay run."""
    from optgold.check import check
    from tests.mutants.sgd_mutants import SGDDecayOutsideMomentum

    case = "weight_decay_rotated"
    report = check(SGDDecayOutsideMomentum, "sgd", contracts="none")
    expected = next(r.message for r in report.cases if r.id == case and r.mode == "free")
    assert "explained by named variant decay_after_momentum" in expected
    log = pytester.path / "steps.log"
    pytester.makepyfile(test_sgd=textwrap.dedent(f"""
        import pytest
        from tests.mutants.sgd_mutants import SGDDecayOutsideMomentum

        class Logged(SGDDecayOutsideMomentum):
            def step(self, closure=None):
                if not self.state:  # the first step of a run
                    with open({str(log)!r}, "a") as f:
                        f.write("run\\n")
                return super().step(closure)

        @pytest.mark.optgold(impl=Logged, reference="sgd")
        def test_sgd(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess("-k", f"{case} and free")  # the replay item is not selected
    result.assert_outcomes(failed=1)
    assert f"sgd/{case} (free, float64): {expected}" in result.stdout.str()
    assert log.read_text().count("run") == 2  # the replay ran first, for the diagnosis
    log.unlink()
    result = pytester.runpytest_subprocess("-k", case)
    result.assert_outcomes(failed=2)
    assert f"sgd/{case} (free, float64): {expected}" in result.stdout.str()
    assert log.read_text().count("run") == 2  # the replay ran once, for both items


def test_an_implementation_that_exits_or_hangs_fails_its_item_and_the_session_goes_on(pytester):
    pytester.makepyfile(textwrap.dedent("""
        import os, sys, time
        import pytest, torch

        class OsExit(torch.optim.SGD):
            def step(self, closure=None):
                os._exit(0)

        class SysExit(torch.optim.SGD):
            def step(self, closure=None):
                sys.exit(0)

        class Hangs(torch.optim.SGD):
            def step(self, closure=None):
                while True:
                    try:
                        time.sleep(0.01)
                    except Exception:
                        pass

        @pytest.mark.optgold(impl=OsExit, reference="sgd", modes=("replay",))
        def test_os_exit(optgold_case):
            optgold_case.assert_passes()

        @pytest.mark.optgold(impl=SysExit, reference="sgd", modes=("replay",))
        def test_sys_exit(optgold_case):
            optgold_case.assert_passes()

        @pytest.mark.optgold(impl=Hangs, reference="sgd", modes=("replay",), timeout=1)
        def test_hangs(optgold_case):
            optgold_case.assert_passes()

        def test_later():
            assert True
    """))
    result = pytester.runpytest_subprocess("-k", "plain_isotropic or test_later")
    result.assert_outcomes(failed=3, passed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*sgd/plain_isotropic (replay, float64): the implementation's process exited with code 0 at step 1*",
        "*sgd/plain_isotropic (replay, float64): the implementation's process exited with code 0 at step 1*",
        "*sgd/plain_isotropic (replay, float64): timed out at step 1: no result after 1 s for the case*",
    ])
