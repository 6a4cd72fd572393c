"""torch's schedulers pass their goldens; the check's contract (skips, failures, steps, tolerance).

Calibration of the tolerance model (suite/kinds/scheduler.py): torch reproduces every golden
bit for bit, in float64 and with float32 parameters alike; torch's own closed forms
(``step(epoch)``), a legitimate implementation that differs by rounding only, pass with at
most CALIBRATED_WORST of the bound used.
"""
import json

import numpy as np
import pytest
import torch

from optgold import reference
from optgold.golden.schedules import GRID, load_cases
from optgold.reference import schedulers
from optgold import report
from optgold.check import Options, check as check_scheduler, check_case
from optgold.kinds import scheduler as schedule_check
from optgold.kinds.scheduler import torch_class

NAMES = sorted(schedulers.SCHEDULERS)
# torch schedulers with a closed form (_get_closed_form_lr), which step(epoch) uses
CLOSED_FORM = ["step_lr", "multi_step_lr", "constant_lr", "linear_lr", "exponential_lr", "polynomial_lr",
               "cosine_annealing_lr"]


@pytest.mark.parametrize("name", NAMES)
def test_torch_scheduler_reproduces_its_golden_bit_for_bit(name):
    report_ = check_scheduler(torch_class(schedulers.get(name)), name, impl=schedulers.get(name).TORCH)
    assert report_.passed, [c.message for c in report_.cases if c.status != "passed"]
    assert len(report_.cases) == len(GRID[name])
    assert {c.mode for c in report_.cases} == {"schedule"}
    assert all(c.max_abs_error == 0.0 and c.tolerance_used == 0.0 for c in report_.cases)


def test_float32_parameters_make_no_difference():
    """lrs are Python floats whatever the parameters' dtype: the observed sequences are identical."""
    for name in NAMES:
        cls = torch_class(schedulers.get(name))
        for case in load_cases(name):
            rows64 = check_case(schedule_check, cls, case, "schedule", Options(dtype="float64"))[1].observed()
            rows32 = check_case(schedule_check, cls, case, "schedule", Options(dtype="float32"))[1].observed()
            assert rows64.keys() == rows32.keys() == case.quantities.keys()
            for q in rows64:
                np.testing.assert_array_equal(rows64[q], rows32[q])
        assert check_scheduler(cls, name, dtype="float32").passed


def closed_form_stepping(cls):
    class ClosedForm(cls):
        """torch's scheduler stepped with an explicit epoch: its closed form instead of the chainable step."""

        def step(self, epoch=None):
            super().step(self.last_epoch + 1)

    return ClosedForm


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_torch_closed_forms_pass_within_the_calibrated_fraction(name):
    report_ = check_scheduler(closed_form_stepping(torch_class(schedulers.get(name))), name)
    assert report_.passed, [c.message for c in report_.cases if c.status != "passed"]
    assert max(c.tolerance_used for c in report_.cases) <= schedule_check.CALIBRATED_WORST


def test_the_calibration_is_tight():
    """CALIBRATED_WORST is what the equivalent forms actually use (not a loose guess), and the
    closed forms do differ from torch's chainable steps (rounding is really exercised)."""
    used = []
    for name in CLOSED_FORM:
        report_ = check_scheduler(closed_form_stepping(torch_class(schedulers.get(name))), name)
        used += [c.tolerance_used for c in report_.cases]
    assert max(used) > schedule_check.CALIBRATED_WORST / 2
    assert sum(u > 0 for u in used) >= 5


def test_check_runs_a_factory_with_impl_args():
    def factory(optimizer, **hp):
        if hp.pop("verbose_name") != "x":
            raise ValueError("the impl arg did not arrive")
        return torch.optim.lr_scheduler.StepLR(optimizer, **hp)

    report_ = check_scheduler(factory, "step_lr", impl="factory", impl_args={"verbose_name": "x"})
    assert report_.passed and report_.impl == "factory"
    built = [c.hyperparameters for c in report_.cases]  # what each construction was called with
    assert built[0] == {"step_size": 3, "gamma": 0.5, "verbose_name": "x"}
    assert built[1] == {"step_size": 4, "verbose_name": "x"}, "defaults are left out, required ones passed"


def test_callables_and_sub_schedulers_are_built_for_torch():
    case = next(c for c in load_cases("sequential_lr") if c.id == "three_schedulers")
    optimizer = schedule_check.build_optimizer(case)
    hp = schedule_check.impl_hyperparameters(case, optimizer)
    assert [type(s).__name__ for s in hp["schedulers"]] == ["ConstantLR", "CosineAnnealingLR", "MultiplicativeLR"]
    assert hp["schedulers"][2].lr_lambdas[0] is schedulers.functions.get("shrink_0.95")
    assert all(s.optimizer is optimizer for s in hp["schedulers"])


def test_not_implemented_is_skipped_and_nothing_run_fails():
    class Unsupported(torch.optim.lr_scheduler.CyclicLR):
        def __init__(self, optimizer, *args, mode="triangular", **kwargs):
            if mode != "triangular":
                raise NotImplementedError(f"mode {mode}")
            super().__init__(optimizer, *args, mode=mode, **kwargs)

    report_ = check_scheduler(Unsupported, "cyclic_lr")
    statuses = {c.id: c.status for c in report_.cases}
    assert statuses["triangular2_momentum_per_group"] == "skipped" and statuses["exp_range_adam"] == "skipped"
    assert "not implemented: construction" in next(c for c in report_.cases if c.status == "skipped").message
    assert report_.passed

    class Nothing(torch.optim.lr_scheduler.StepLR):
        def __init__(self, *args, **kwargs):
            raise NotImplementedError

    assert not check_scheduler(Nothing, "step_lr").passed  # every case skipped: nothing ran


def test_an_implementation_that_raises_fails_with_the_step():
    class Crashes(torch.optim.lr_scheduler.ExponentialLR):
        def get_lr(self):
            if self.last_epoch == 7:
                raise RuntimeError("boom")
            return super().get_lr()

    [case] = check_scheduler(Crashes, "exponential_lr").cases
    assert case.status == "failed" and case.first_divergent_step == 7
    assert "raised RuntimeError at step 7: boom" in case.message


def test_construction_errors_fail_and_name_the_arguments():
    [case] = check_scheduler(torch.optim.lr_scheduler.StepLR, "exponential_lr").cases  # no step_size
    assert case.status == "failed" and case.first_divergent_step == 0
    assert "construction with {'gamma': 0.9} raised TypeError" in case.message


def test_nan_fails_at_its_step():
    class NaNs(torch.optim.lr_scheduler.StepLR):
        def get_lr(self):
            return [float("nan")] * 2 if self.last_epoch == 5 else super().get_lr()

    case = check_scheduler(NaNs, "step_lr").cases[0]
    assert case.status == "failed" and case.first_divergent_step == 5 and "non-finite" in case.message


def test_a_failure_reports_step_group_values_tolerance_and_variant():
    class OneLate(torch.optim.lr_scheduler.StepLR):
        def get_lr(self):
            if self.last_epoch == 0 or (self.last_epoch - 1) % self.step_size != 0 or self.last_epoch == 1:
                return [g["lr"] for g in self.optimizer.param_groups]
            return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    case = check_scheduler(OneLate, "step_lr").cases[0]
    assert case.status == "failed" and case.first_divergent_step == 3
    assert case.divergence.group == 0 and case.divergence.expected == 0.05 and case.divergence.observed == 0.1
    assert case.message.startswith("lr diverges at step 3, param group 0: observed 0.10000000000000001, "
                                   "expected 0.050000000000000003, tolerance ")
    assert "explained by named variant decay_one_late" in case.message
    assert case.as_json()["first_divergent_step"] == 3 and case.as_json()["mode"] == "schedule"


def test_momentum_is_checked_where_the_scheduler_cycles_it():
    class NoMomentum(torch.optim.lr_scheduler.OneCycleLR):
        def __init__(self, optimizer, *args, **kwargs):
            super().__init__(optimizer, *args, **{**kwargs, "cycle_momentum": False})

    report_ = check_scheduler(NoMomentum, "one_cycle_lr")
    failed = [c for c in report_.cases if c.status == "failed"]
    assert failed and all(c.divergence.quantity == "momentum" for c in failed)
    assert {c.id for c in report_.cases if c.status == "passed"} == {"epochs_no_momentum"}


def test_unknown_scheduler_is_an_unknown_reference():
    with pytest.raises(reference.UnknownReference, match="scheduler: chained_scheduler, constant_lr"):
        check_scheduler(torch.optim.lr_scheduler.StepLR, "step")
    with pytest.raises(schedulers.functions.UnknownFunction, match="inverse_sqrt"):
        schedulers.functions.get("nope")


def test_report_renders_and_serialises(tmp_path):
    report_ = check_scheduler(torch.optim.lr_scheduler.OneCycleLR, "one_cycle_lr", impl="torch")
    path = tmp_path / "r.json"
    report.write_json(report_, path)
    data = json.loads(path.read_text())
    assert data["passed"] and data["reference"] == "one_cycle_lr" and len(data["cases"]) == 4
    assert "PASSED[/]: 4 passed" in report.summary(report_)


def test_bound_grows_with_steps_and_scale():
    case = load_cases("step_lr")[0]  # certified exact: the bound is the rounding model alone
    bound = schedule_check.bound(case, "lr")
    assert bound.shape == case.quantities["lr"].shape
    assert (np.diff(bound, axis=0) > 0).all()
    assert bound[0, 0] / bound[0, 1] == pytest.approx(4.0, rel=0.05)  # base lrs 0.1 and 0.025


def test_optgold_list_shows_schedulers(capsys):
    from optgold.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "scheduler" in out and "one_cycle_lr" in out and "reduce_lr_on_plateau" in out
