"""An implementation runs in a worker process and the parent judges: whatever it does to its own
process (exit, crash, hang past an ``except Exception``), the check never reports it as judged,
and the other cases still run."""
import json
import os
import signal
import subprocess
import sys
import time
import warnings

import pytest
import torch

from optgold import compare
from optgold.check import Options, check, check_case
from optgold.golden.load import load_cases
from optgold.kinds import optimizer


def _nth_step(self):
    self.calls = getattr(self, "calls", 0) + 1
    return self.calls


class ExitsAtStep3(torch.optim.SGD):
    def step(self, closure=None):
        if _nth_step(self) == 3:
            os._exit(0)
        return super().step(closure)


class SysExitAtStep2(torch.optim.SGD):
    def step(self, closure=None):
        if _nth_step(self) == 2:
            sys.exit(0)
        return super().step(closure)


class KillsItself(torch.optim.SGD):
    def step(self, closure=None):
        os.kill(os.getpid(), signal.SIGKILL)


class Segfaults(torch.optim.SGD):
    def step(self, closure=None):
        import faulthandler

        faulthandler.disable()  # pytest's dump of the dying worker is noise in the test log
        os.kill(os.getpid(), signal.SIGSEGV)


class SwallowsEverything(torch.optim.SGD):
    """A retry loop that catches every Exception: an in-process alarm raising one never ends it."""

    def step(self, closure=None):
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass


class ExitsOnWeightDecay(torch.optim.SGD):
    """Crashes on one kind of case only: the others must still be judged, and pass."""

    def step(self, closure=None):
        if any(group["weight_decay"] for group in self.param_groups):
            os._exit(3)
        return super().step(closure)


class BlindsTheJudge(torch.optim.SGD):
    """Wrong arithmetic (twice the lr) that also patches the judging code of its own process."""

    def step(self, closure=None):
        compare.first_divergence = lambda *args, **kwargs: None
        for group in self.param_groups:
            group["lr"] = 2 * group.setdefault("base", group["lr"])
        return super().step(closure)


class NotAnOptimizer:
    def __init__(self, params, **hp):
        pass


def sgd_case(index=0):
    return load_cases("sgd")[index]


@pytest.mark.parametrize("impl, step, how", [
    (ExitsAtStep3, 3, "exited with code 0 at step 3"),
    (SysExitAtStep2, 2, "exited with code 0 at step 2"),
    (KillsItself, 1, "killed by signal SIGKILL at step 1"),
    (Segfaults, 1, "killed by signal SIGSEGV at step 1"),
])
def test_a_process_that_ends_fails_its_case_with_the_code_and_step(impl, step, how):
    result, _ = check_case(optimizer, impl, sgd_case(), "replay")
    assert result.status == "failed" and result.first_divergent_step == step
    assert how in result.message and "not judged" in result.message


def test_a_timeout_holds_against_an_implementation_that_catches_every_exception():
    started = time.monotonic()
    result, _ = check_case(optimizer, SwallowsEverything, sgd_case(), "replay", Options(timeout=0.5))
    assert time.monotonic() - started < 5
    assert result.status == "failed" and "timed out at step 1" in result.message and "killed" in result.message


def test_the_budget_ends_a_check_of_a_hung_implementation_and_every_case_fails():
    started = time.monotonic()
    report = check(SwallowsEverything, "sgd", options=Options(timeout=0.4, budget=1.5, modes=("replay",), contracts="none"))
    assert time.monotonic() - started < 6
    assert not report.passed and {c.status for c in report.cases} == {"failed"}
    assert any("budget of 1.5 s was spent before this case" in c.message for c in report.cases)


def test_the_other_cases_still_run_after_one_crashes():
    report = check(ExitsOnWeightDecay, "sgd", options=Options(modes=("replay",), contracts="none"))
    by_status = {s: [c.id for c in report.cases if c.status == s] for s in ("passed", "failed")}
    assert by_status["failed"] and by_status["passed"]
    for case in load_cases("sgd"):
        decays = [case.hp["weight_decay"]] + [g["hp"].get("weight_decay", 0) for g in case.groups]
        expected = "failed" if any(decays) else "passed"
        assert next(c.status for c in report.cases if c.id == case.id) == expected, case.id


def test_an_implementation_cannot_rewrite_the_parents_judge():
    result, _ = check_case(optimizer, BlindsTheJudge, sgd_case(), "replay")
    assert result.status == "failed" and result.first_divergent_step == 1
    assert compare.first_divergence.__name__ == "first_divergence"


def test_a_correct_implementation_still_passes_and_is_recorded_whole():
    case = sgd_case()
    result, run = check_case(optimizer, torch.optim.SGD, case, "replay")
    assert result.status == "passed" and len(run.params) == case.steps + 1


def test_the_worker_runs_with_the_threads_asked_for():
    class Threads(torch.optim.SGD):
        def step(self, closure=None):
            if torch.get_num_threads() != 2:
                raise RuntimeError(f"{torch.get_num_threads()} threads")
            return super().step(closure)

    assert check_case(optimizer, Threads, sgd_case(), "replay", Options(threads=2))[0].status == "passed"
    assert check_case(optimizer, Threads, sgd_case(), "replay", Options(threads=1))[0].status == "failed"


def test_a_factory_that_returns_no_optimizer_is_one_usage_error():
    from optgold.reference.errors import UsageError

    with pytest.raises(UsageError, match="not an optimizer"):
        check(NotAnOptimizer, "sgd")


def test_a_warning_of_the_implementation_is_shown_once_per_check_not_once_per_case():
    class Warns(torch.optim.SGD):
        def step(self, closure=None):
            warnings.warn("deprecated knob", FutureWarning)
            return super().step(closure)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        check(Warns, "sgd", options=Options(modes=("replay",), contracts="none"))
    assert [str(w.message) for w in caught if "deprecated knob" in str(w.message)] == ["deprecated knob"]


@pytest.fixture
def bad_impls(tmp_path):
    (tmp_path / "bad.py").write_text(
        "import os, torch\n"
        "class Exit0(torch.optim.SGD):\n"
        "    def step(self, closure=None):\n"
        "        self.n = getattr(self, 'n', 0) + 1\n"
        "        if self.n == 3:\n"
        "            os._exit(0)\n"
        "        return super().step(closure)\n")
    return tmp_path


def test_optgold_check_on_an_implementation_that_calls_os_exit_0_exits_1_naming_case_and_step(bad_impls):
    out = bad_impls / "out.json"
    done = subprocess.run([sys.executable, "-m", "optgold.cli", "check", "bad.py:Exit0", "--reference", "sgd",
                           "--mode", "replay", "--json", str(out)], cwd=bad_impls, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    assert "plain_isotropic (replay, float64): the implementation's process exited with code 0 at step 3" in \
        " ".join(done.stdout.split())
    report = json.loads(out.read_text())
    assert report["passed"] is False and all(c["status"] == "failed" for c in report["cases"])
    assert report["cases"][0]["first_divergent_step"] == 3


def test_no_worker_is_left_behind_by_a_check_or_a_hang():
    import multiprocessing

    check(torch.optim.SGD, "sgd", options=Options(modes=("replay",), contracts="none"))
    check_case(optimizer, SwallowsEverything, sgd_case(), "replay", Options(timeout=0.3))
    assert multiprocessing.active_children() == []


def test_ctrl_c_in_the_parent_ends_the_worker_too():
    """Ctrl-C reaches the parent (the worker ignores SIGINT); leaving the check ends its worker."""
    import multiprocessing

    class Slow(torch.optim.SGD):
        def step(self, closure=None):
            time.sleep(0.02)
            return super().step(closure)

    def interrupt(case, step):
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        check(Slow, "sgd", options=Options(modes=("replay",), progress=interrupt, contracts="none"))
    assert time.monotonic() - started < 5 and multiprocessing.active_children() == []


def test_a_process_the_implementation_started_does_not_outlive_the_check(tmp_path):
    marker = tmp_path / "grandchild.pid"

    class StartsAndHangs(torch.optim.SGD):
        def step(self, closure=None):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            marker.write_text(str(child.pid))
            while True:
                time.sleep(0.01)

    result, _ = check_case(optimizer, StartsAndHangs, sgd_case(), "replay", Options(timeout=1.0))
    assert result.status == "failed" and "timed out" in result.message
    pid = int(marker.read_text())
    for _ in range(50):  # SIGKILL is delivered at once; reaping by init may take a moment
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the implementation's own child process outlived the check")


def test_a_hyperparameter_that_cannot_be_pickled_is_reported_by_name():
    """The worker sends what it built with; a local function among the keywords goes as its name."""
    def local_hook():
        return None

    class TakesAHook(torch.optim.SGD):
        def __init__(self, params, hook=None, **hp):
            super().__init__(params, **hp)

    result, _ = check_case(optimizer, TakesAHook, sgd_case(), "replay", Options(impl_args={"hook": local_hook}))
    assert result.status == "passed" and result.hyperparameters["hook"] == "local_hook"
