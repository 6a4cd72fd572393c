"""The default golden grid catches every catalogued bug mutant; the correct bases pass."""
from collections import Counter

import pytest

from optgold import reference
from optgold.check import check
from optgold.reference import capabilities
from tests.mutants import CORRECT, MUTANTS

BY_NAME = pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])


def caught(report):
    """Not passed, and some failed case names the step where it first diverged."""
    failed = [c for c in report.cases if c.status == "failed"]
    return not report.passed and any(c.first_divergent_step is not None for c in failed)


def fastest_mode(mutant):
    """Replay, except for optimizers that evaluate their own closure (LBFGS), which only run free."""
    return "free" if capabilities.of(reference.get(mutant.reference)).closure else "replay"


class ParamsOnly:
    """An optimizer seen without its state, as a custom implementation might expose it."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def step(self, closure=None):
        return self.optimizer.step(closure) if closure else self.optimizer.step()


def test_catalogue_covers_each_optimizer():
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    assert all(count >= 2 for count in Counter(m.reference for m in MUTANTS).values())
    assert all(Counter(m.reference for m in MUTANTS)[name] >= 6 for name in ("sgd", "adam", "adamw"))
    assert set(Counter(m.reference for m in MUTANTS)) == set(CORRECT)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reference", sorted(CORRECT))
def test_correct_base_passes(reference, dtype):
    report = check(CORRECT[reference], reference, dtype=dtype, contracts="none")
    assert report.passed, [c.message for c in report.cases if c.status != "passed"]


@BY_NAME
def test_caught_in_float64(mutant):
    assert caught(check(mutant.cls, mutant.reference, dtype="float64", contracts="none"))


@BY_NAME
def test_caught_in_float32(mutant):
    report = check(mutant.cls, mutant.reference, dtype="float32", modes=(fastest_mode(mutant),), contracts="none")
    if mutant.caught_in_float32:
        assert caught(report)
    else:
        assert mutant.why_not_float32, "a mutant the grid misses in float32 needs a measured reason"
        assert report.passed, "now caught in float32: set caught_in_float32=True"


@BY_NAME
def test_caught_by_params_alone(mutant):
    """Every bug shows in the parameters, not only in state the implementation happens to expose."""
    def factory(params, **hp):
        return ParamsOnly(mutant.cls(params, **hp))

    assert caught(check(factory, mutant.reference, dtype="float64", modes=(fastest_mode(mutant),), contracts="none"))
