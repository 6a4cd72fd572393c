"""Each catalogued contract bug is caught by its own contract, not by the formula grid; the correct bases pass."""
import inspect
import re
from collections import Counter

import pytest
import torch

from optgold.check import check
from optgold.contracts import CONTRACTS
from tests.contract_mutants import CORRECT, MUTANTS

BY_NAME = pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])


@BY_NAME
def test_caught_by_its_own_contract_and_not_by_the_formula(mutant):
    """In float64 replay its contract's cases fail, at a step; the formula grid's cases of the same check
    (those contracts="none" selects: a check runs the formula grid, then the contract cases) all pass, so
    it is the contract that catches the mutant, not its arithmetic."""
    report = check(mutant.cls, mutant.reference, contracts=(mutant.contract,), modes=("replay",))
    formula = [c for c in report.cases if c.contract is None]
    assert formula and all(c.status == "passed" for c in formula), [
        (c.id, c.message) for c in formula if c.status != "passed"]
    caught = [c for c in report.cases if c.status == "failed" and c.contract == mutant.contract
              and c.first_divergent_step is not None and f"contract {mutant.contract} broken" in c.message]
    assert caught, [(c.id, c.status, c.message) for c in report.cases if c.contract]
    if mutant.contract == "resume":  # a broken resume shows at the first step after the restart
        for c in caught:
            assert c.first_divergent_step == int(re.search(r"after_(\d+)$", c.id).group(1)) + 1, c.message


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("base", [c for c in CORRECT if c.cls is not torch.optim.Adam],  # tests/test_torch_paths.py
                         ids=[c.name for c in CORRECT if c.cls is not torch.optim.Adam])
def test_correct_base_passes_every_contract(base, dtype):
    report = check(base.cls, base.reference, contracts="all", dtype=dtype)
    assert report.passed, [(c.id, c.mode, c.message) for c in report.cases if c.status != "passed"]
    ran = {c.contract for c in report.cases if c.contract}
    assert ran >= {m.contract for m in MUTANTS if m.reference == base.reference}, ran


def test_catalogue_covers_every_contract():
    names = [m.name for m in MUTANTS]
    assert len(MUTANTS) >= 25 and len(set(names)) == len(names)
    per_contract = Counter(m.contract for m in MUTANTS)
    assert set(per_contract) == set(CONTRACTS) and min(per_contract.values()) >= 2, per_contract
    assert len({m.reference for m in MUTANTS}) >= 2
    bases = {(c.cls, c.reference) for c in CORRECT}
    for m in MUTANTS:
        assert any(issubclass(m.cls, cls) and m.reference == reference for cls, reference in bases), m.name
        assert "# BUG" in inspect.getsource(m.cls), f"{m.name} marks no changed line with # BUG"
        assert m.caught_in_float32 or m.why_not_float32, f"{m.name}: a float32 miss needs its measured reason"
