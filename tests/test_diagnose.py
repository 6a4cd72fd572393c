"""A failing case names a variant only when it explains the run decisively (optgold.diagnose.decide)."""
import math

import numpy as np
import pytest

from optgold import diagnose
from optgold.check import check
from optgold.diagnose import THRESHOLD, decide
from tests.mutants import MUTANTS

DESCRIPTIONS = {"torch": "the reference", "eps_inside_sqrt": "eps under the root", "no_bias_correction": "uncorrected",
                "maximize_on_lr": "lr flipped"}


def _mutant(name):
    return next(m for m in MUTANTS if m.name == name)


def _failed(name):
    mutant = _mutant(name)
    report = check(mutant.cls, mutant.reference, dtype="float64", modes=("replay",), contracts="none")
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed
    return failed


def test_a_variant_mutant_is_named():
    for case in _failed("AdamEpsInsideSqrt"):  # computes adam's eps_inside_sqrt
        d = case.diagnosis
        assert d.explained and d.variant == "eps_inside_sqrt", case.message
        assert d.ratio <= THRESHOLD
        assert "explained by named variant eps_inside_sqrt" in case.message


def test_a_mutant_that_is_no_variant_is_not_named():
    for case in _failed("AdamBetasSwapped"):  # betas unpacked in the wrong order: no variant of adam
        d = case.diagnosis
        assert not d.explained and d.variant is None, case.message
        assert "no named variant explains it" in case.message
        assert len(d.nearest) == 2 and all(f"{name} (distance {dist:.2g})" in case.message for name, dist in d.nearest)


def test_a_tie_with_the_reference_is_not_named_and_shows_the_two_nearest():
    d = decide({"torch": 0.32, "eps_inside_sqrt": 0.32, "no_bias_correction": 0.5, "maximize_on_lr": 0.9},
               DESCRIPTIONS)
    assert d.variant is None and not d.explained
    assert d.ratio == 1.0 and d.distance == 0.32 and d.reference_distance == 0.32
    assert d.nearest == (("eps_inside_sqrt", 0.32), ("no_bias_correction", 0.5))
    message = d.describe()
    assert message.startswith("no named variant explains it")
    assert "eps_inside_sqrt (distance 0.32)" in message and "no_bias_correction (distance 0.5)" in message
    assert "reference 0.32" in message and "maximize_on_lr" not in message


@pytest.mark.parametrize("reference_distance", [1.0, 3e-13, 0.32])
def test_the_threshold_boundary(reference_distance):
    at = THRESHOLD * reference_distance
    named = decide({"torch": reference_distance, "eps_inside_sqrt": at, "no_bias_correction": 1.0}, DESCRIPTIONS)
    assert diagnose.ratio(at, reference_distance) <= THRESHOLD
    assert named.variant == "eps_inside_sqrt" and named.description == "eps under the root"
    assert named.describe().startswith("explained by named variant eps_inside_sqrt — eps under the root")
    above = at * (1 + 1e-9)
    unnamed = decide({"torch": reference_distance, "eps_inside_sqrt": above, "no_bias_correction": 1.0},
                     DESCRIPTIONS)
    assert unnamed.variant is None and unnamed.nearest[0] == ("eps_inside_sqrt", above)


def test_a_second_variant_within_the_threshold_is_mentioned():
    d = decide({"torch": 1.0, "eps_inside_sqrt": 1e-16, "no_bias_correction": 2e-16, "maximize_on_lr": 0.5},
               DESCRIPTIONS)
    assert d.variant == "eps_inside_sqrt"
    assert "as close: no_bias_correction" in d.describe() and "no_bias_correction" in d.describe()
    assert "maximize_on_lr" not in d.describe()


@pytest.mark.parametrize("distances", [
    {"torch": 0.0, "eps_inside_sqrt": 0.0},  # the params match the reference: the failure lies elsewhere
    {"torch": 0.0, "eps_inside_sqrt": 1e-16},
    {"eps_inside_sqrt": 1e-16},  # the reference could not be computed
    {"torch": math.nan, "eps_inside_sqrt": 1e-16},
    {"torch": math.inf, "eps_inside_sqrt": math.inf},
])
def test_no_name_without_a_reference_to_beat(distances):
    assert decide(distances, DESCRIPTIONS).variant is None


def test_nothing_to_decide():
    assert decide({}, DESCRIPTIONS) is None
    only_reference = decide({"torch": 0.3}, DESCRIPTIONS)
    assert only_reference.variant is None and "none could be computed" in only_reference.describe()


def test_ranking_puts_nan_last_and_keeps_the_first_of_equals():
    d = decide({"torch": 1.0, "maximize_on_lr": math.nan, "no_bias_correction": 0.4, "eps_inside_sqrt": 0.4},
               DESCRIPTIONS)
    assert [name for name, _ in d.ranked] == ["no_bias_correction", "eps_inside_sqrt", "maximize_on_lr"]


def test_distance_is_symmetric_and_bounded_for_a_run_that_blows_up():
    bounded = np.array([[1.0, 2.0], [1.0, 1.5]])
    blown = np.array([[1.0, 2.0], [1e6, -1e6]])
    assert diagnose.distance(bounded, bounded) == 0.0
    assert diagnose.distance(blown, bounded) == diagnose.distance(bounded, blown) == pytest.approx(1.0, rel=1e-5)
    assert diagnose.distance(blown, bounded) <= 2
    assert diagnose.distance(np.array([[1.0, math.nan]]), bounded) == math.inf
    assert diagnose.distance(np.array([1.0, -1.0]), np.array([-1.0, 1.0])) == 2.0  # 1-D: one row
