"""An implementation that raises, returns NaN, hangs or rejects a config is reported, never crashes the run."""
import math

import torch

from optgold.golden.load import load_cases
from optgold.check import Options, check, check_case
from optgold.kinds import optimizer


class RaisesAtStep3(torch.optim.SGD):
    def step(self, closure=None):
        self.count = getattr(self, "count", 0) + 1
        if self.count == 3:
            raise RuntimeError("kernel launch failed")
        return super().step(closure)


class ReturnsNaN(torch.optim.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        super().step(closure)
        self.param_groups[0]["params"][0].view(-1)[0] = math.nan


class Hangs(torch.optim.SGD):
    def step(self, closure=None):
        while True:
            pass


def no_momentum_sgd(params, momentum=0.0, **hp):
    if momentum:
        raise NotImplementedError("momentum is not supported")
    return torch.optim.SGD(params, **hp)


def first_case(reference="sgd"):
    return load_cases(reference)[0]


def test_exception_fails_the_case_with_step_and_message():
    result, _ = check_case(optimizer, RaisesAtStep3, first_case(), "replay")
    assert result.status == "failed"
    assert result.first_divergent_step == 3
    assert "RuntimeError" in result.message and "kernel launch failed" in result.message


def test_nan_fails_at_the_first_step():
    result, _ = check_case(optimizer, ReturnsNaN, first_case(), "free")
    assert result.status == "failed"
    assert result.first_divergent_step == 1
    assert "nan" in result.message.lower()


def test_hang_times_out():
    result, _ = check_case(optimizer, Hangs, first_case(), "replay", Options(timeout=0.5))
    assert result.status == "failed"
    assert "timed out at step 1" in result.message


def test_not_implemented_config_is_skipped_with_reason_and_others_run():
    report = check(no_momentum_sgd, "sgd", contracts="none")
    statuses = {c.id: c.status for c in report.cases}
    assert statuses["plain_isotropic"] == "passed"
    assert statuses["momentum_rotated"] == "skipped"
    assert all("momentum is not supported" in c.message for c in report.cases if c.status == "skipped")
    assert report.passed


def test_nothing_ran_is_a_failure():
    def never(params, **hp):
        raise NotImplementedError("nothing supported")

    report = check(never, "adam", contracts="none")
    assert {c.status for c in report.cases} == {"skipped"}
    assert not report.passed


def test_factory_function_is_accepted():
    report = check(lambda params, **hp: torch.optim.Adam(params, **hp), "adam", modes=("replay",), contracts="none")
    assert report.passed
