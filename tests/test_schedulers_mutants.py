"""The scheduler goldens catch every catalogued scheduler bug, name the step where it first
shows, and name the bug where the reference knows it as a variant."""
import inspect
from collections import Counter

import pytest

from optgold.reference import schedulers
from optgold.check import check as check_scheduler
from optgold.kinds.scheduler import torch_class
from tests.scheduler_mutants import MUTANTS

BY_NAME = pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])


def test_catalogue_covers_every_scheduler_with_two_bugs_or_more():
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    counts = Counter(m.reference for m in MUTANTS)
    assert set(counts) == set(schedulers.SCHEDULERS)
    assert min(counts.values()) >= 2


@BY_NAME
def test_each_mutant_has_one_marked_bug(mutant):
    assert inspect.getsource(mutant.cls).count("# BUG") == 1
    assert issubclass(mutant.cls, torch_class(schedulers.get(mutant.reference)))
    if mutant.variant:
        assert mutant.variant in schedulers.get(mutant.reference).VARIANTS


@BY_NAME
def test_caught_naming_the_first_divergent_step(mutant):
    report = check_scheduler(mutant.cls, mutant.reference, impl=mutant.name)
    failed = [c for c in report.cases if c.status == "failed"]
    assert not report.passed and failed
    for case in failed:
        assert case.first_divergent_step is not None
        assert f"at step {case.first_divergent_step}," in case.message or (
            case.first_divergent_step == 0 and "at construction (step 0)" in case.message)
    if mutant.variant:
        assert {c.diagnosis.variant for c in failed} == {mutant.variant}, [c.message for c in failed]
