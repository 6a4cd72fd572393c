"""SWA and EMA: torch's AveragedModel passes; realistic averaging bugs fail at their first update."""
import pytest
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from optgold.reference import averaging
from optgold.check import check as check_averaging


class SwaCountOffByOne(AveragedModel):
    """SWA running mean dividing by n instead of n + 1."""

    def __init__(self, model, use_buffers=False):
        def mean(averaged, current, n):
            for a, c in zip(averaged, current):
                a.add_((c - a) / n)  # BUG: should be n + 1

        super().__init__(model, multi_avg_fn=mean, use_buffers=use_buffers)


class EmaDecaySwapped(AveragedModel):
    """EMA weighting the new weights by decay and the average by 1 - decay."""

    def __init__(self, model, decay, use_buffers=False):
        def ema(averaged, current, n):
            torch._foreach_lerp_(averaged, current, decay)  # BUG: weight should be 1 - decay

        super().__init__(model, multi_avg_fn=ema, use_buffers=use_buffers)


class EmaIgnoresBuffers(AveragedModel):
    """use_buffers accepted but buffers never averaged."""

    def __init__(self, model, decay, use_buffers=False):
        super().__init__(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)  # BUG


class SwaFromZero(AveragedModel):
    """The average starts from zero: the first update is averaged with nothing."""

    def __init__(self, model, use_buffers=False):
        super().__init__(model, use_buffers=use_buffers)
        self.n_averaged += 1  # BUG: skips the copy of the first weights
        with torch.no_grad():
            for p in self.module.parameters():
                p.zero_()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["swa", "ema"])
def test_torch_averaged_model_passes(kind, dtype):
    report = check_averaging(AveragedModel, kind, dtype=dtype)
    assert report.passed, [c.message for c in report.cases]
    assert max(c.tolerance_used for c in report.cases) < 0.5


@pytest.mark.parametrize("kind, mutant", [("swa", SwaCountOffByOne), ("swa", SwaFromZero),
                                          ("ema", EmaDecaySwapped), ("ema", EmaIgnoresBuffers)])
def test_averaging_mutant_fails_with_its_update(kind, mutant):
    report = check_averaging(mutant, kind)
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed and not report.passed
    assert all(c.first_divergent_step >= 1 for c in failed)


def test_reference_swa_is_the_mean_and_ema_the_recursion():
    rows = [[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]]
    swa = averaging.average("swa", rows, [[0.0]] * 3)
    assert swa[-1][0] == [3.0, 6.0]
    ema = averaging.average("ema", rows, [[0.0]] * 3, decay=0.5)
    assert ema[1][0] == [2.0, 4.0] and ema[2][0] == [3.5, 7.0]


def test_buffers_follow_the_model_unless_averaged():
    rows, buffers = [[0.0], [0.0]], [[2.0], [4.0]]
    assert averaging.average("swa", rows, buffers, use_buffers=False)[-1][1] == [4.0]
    assert averaging.average("swa", rows, buffers, use_buffers=True)[-1][1] == [3.0]
