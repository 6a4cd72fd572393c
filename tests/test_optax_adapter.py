"""The optax adapter: optax's transformations against the goldens, and optax-style mutants caught."""
import pytest

pytest.importorskip("jax", reason="jax is not installed (pip install .[jax])")
optax = pytest.importorskip("optax", reason="optax is not installed (pip install .[jax])")

from optgold.adapters import select  # noqa: E402
from optgold.check import check  # noqa: E402

FAST = {"modes": ("replay",), "contracts": "none"}


def statuses(report):
    return {c.id: c.status for c in report.cases}


def test_optax_functions_are_claimed():
    assert select(optax.adam) == "optax"
    from tests.optax_mutants.mutants import adam_correct

    assert select(adam_correct) == "optax"  # a user's own, by its return annotation


def test_optax_adam_passes_in_float64_with_its_schedule_case():
    report = check(optax.adam, "adam", dtype="float64", **FAST)
    assert report.passed, [c.message for c in report.cases if c.status == "failed"]
    assert statuses(report)["warm_restarts_rosenbrock"] == "passed"  # the lr of each step, as torch's scheduler
    assert statuses(report)["amsgrad_isotropic"] == "skipped"  # optax.adam takes no amsgrad


def test_correct_custom_transform_passes():
    from tests.optax_mutants.mutants import adam_correct

    report = check(adam_correct, "adam", dtype="float64", **FAST)
    assert report.passed, [c.message for c in report.cases if c.status == "failed"]


@pytest.mark.parametrize("mutant, reference", __import__("tests.optax_mutants.mutants", fromlist=["MUTANTS"]).MUTANTS,
                         ids=lambda v: getattr(v, "__name__", v))
def test_mutant_caught(mutant, reference):
    report = check(mutant, reference, dtype="float64", **FAST)
    failed = [c for c in report.cases if c.status == "failed"]
    assert not report.passed and any(c.first_divergent_step is not None for c in failed)


def test_a_contract_optax_cannot_follow_skips_with_the_reason():
    report = check(optax.lion, "lion", dtype="float64", modes=("replay",), contracts="missing_grad")
    contract = [c for c in report.cases if c.contract == "missing_grad"]
    assert contract and all(c.status == "skipped" for c in contract)
    assert all("gradient cannot be absent" in c.message for c in contract)
