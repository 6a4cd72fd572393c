"""optax's schedules against the scheduler goldens: each mapped factory, read from the lr optax.sgd
applies at each update, passes what it expresses and fails, at the step and with the variant
that says why, where it is another function than torch's; porting bugs are caught at their step."""
import inspect

import pytest

pytest.importorskip("jax", reason="jax is not installed (pip install .[jax])")
optax = pytest.importorskip("optax", reason="optax is not installed (pip install .[jax])")

import torch  # noqa: E402

from optgold.adapters import optax_schedule, select  # noqa: E402
from optgold.check import check  # noqa: E402
from optgold.reference.errors import UsageError  # noqa: E402
from tests.optax_schedule_mutants.mutants import MUTANTS  # noqa: E402


def by_id(report):
    return {c.id: c for c in report.cases}


def test_schedule_factories_are_claimed_before_optax_transformations():
    assert select(optax.cosine_decay_schedule) == "optax_schedule"
    assert select(MUTANTS[0].factory) == "optax_schedule"  # a user's, wrapping optax's (functools.wraps)
    assert select(optax.adam) == "optax"
    assert select(torch.optim.lr_scheduler.StepLR) == "torch"


@pytest.mark.parametrize("factory, reference", [("piecewise_constant_schedule", "multi_step_lr"),
                                                ("piecewise_constant_schedule", "constant_lr"),
                                                ("sgdr_schedule", "cosine_annealing_warm_restarts")])
def test_schedule_passes_every_case_in_float64(factory, reference):
    report = check(getattr(optax, factory), reference)
    assert report.passed and {c.status for c in report.cases} == {"passed"}, [c.message for c in report.cases]


def test_cosine_decay_follows_torch_to_t_max_then_stays_at_its_minimum():
    cases = by_id(check(optax.cosine_decay_schedule, "cosine_annealing_lr"))
    for case_id, t_max in (("past_t_max_eta_min", 10), ("t_max_7", 7)):
        assert cases[case_id].status == "failed" and cases[case_id].first_divergent_step == t_max + 1
        assert cases[case_id].diagnosis.variant == "clamped_after_t_max"


def test_cosine_onecycle_is_named_and_what_it_cannot_express_skips_with_the_reason():
    cases = by_id(check(optax.cosine_onecycle_schedule, "one_cycle_lr"))
    assert cases["epochs_no_momentum"].status == "failed"
    assert cases["epochs_no_momentum"].diagnosis.variant == "optax_onecycle"
    assert cases["cos_two_phase"].status == "skipped" and "cycle_momentum=True" in cases["cos_two_phase"].message
    assert cases["cos_three_phase"].status == "skipped" and "three_phase=True" in cases["cos_three_phase"].message


@pytest.mark.parametrize("factory, reference", [("exponential_decay", "exponential_lr"),
                                                ("exponential_decay", "step_lr"),
                                                ("linear_schedule", "linear_lr")])
def test_a_schedule_of_the_int32_count_is_a_float32_lr_from_the_first_update(factory, reference):
    report = check(getattr(optax, factory), reference)
    for case in report.cases:
        assert case.status == "failed" and case.first_divergent_step == 0
        # float32 rounding (relative 1e-7, compounded over 30 steps at most) of lrs up to 0.1; a step off is 1e-4 or more
        assert 0 < case.max_abs_error < 1e-6 * 0.1


def test_jitted_polynomial_schedule_with_a_fractional_power_is_nan_at_its_end():
    cases = by_id(check(optax.polynomial_schedule, "polynomial_lr"))
    assert "non-finite values at step 6" in cases["square_root"].message  # total_iters=6, power=0.5


def test_a_reference_the_factory_is_not_mapped_to_is_one_line():
    with pytest.raises(UsageError, match="mapped to the scheduler reference.*cosine_annealing_lr, not step_lr"):
        check(optax.cosine_decay_schedule, "step_lr")
    with pytest.raises(UsageError, match="drives implementations of the scheduler kind"):
        check(optax.cosine_decay_schedule, "sgd")


def test_every_mutant_has_one_marked_bug():
    for mutant in MUTANTS:
        code = (mutant.mapping or mutant.factory).__code__  # the wrapper's own, not the optax function it wraps
        assert inspect.getsource(code).count("# BUG") == 1, mutant.name


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_caught_at_its_step(mutant, monkeypatch):
    if mutant.mapping is not None:
        name = optax_schedule.mapped_as(mutant.factory)
        monkeypatch.setitem(optax_schedule.MAPPINGS[name], mutant.reference, mutant.mapping)
    cases = by_id(check(mutant.factory, mutant.reference))
    assert {case_id: case.first_divergent_step for case_id, case in cases.items()} == mutant.first_step
    for case_id, step in mutant.first_step.items():
        assert cases[case_id].status == ("passed" if step is None else "failed")
        if step is not None and mutant.variant:
            assert cases[case_id].diagnosis.variant == mutant.variant
