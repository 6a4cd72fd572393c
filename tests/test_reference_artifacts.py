"""Every optimizer reference comes with its grid, its goldens and its mutants."""
import json

import pytest

from optgold import reference
from optgold.golden import store
from optgold.golden.grid import GRID
from tests.mutants import MUTANTS


def missing(name, grid, manifest, mutants):
    """What reference ``name`` lacks among: grid cases, a golden file in the manifest, at least one mutant."""
    lacks = []
    if not grid.get(name):
        lacks.append(f"no cases: golden/grid/{name}.py with CASES")
    if f"{name}.npz" not in manifest["files"]:
        lacks.append(f"no goldens: golden/data/{name}.npz in {store.MANIFEST} (optgold generate)")
    if not any(m.reference == name for m in mutants):
        lacks.append(f"no mutants: tests/mutants/{name}_mutants.py with at least one mutant")
    return lacks


@pytest.fixture(scope="module")
def manifest():
    return json.loads((store.PACKAGED_DIR / store.MANIFEST).read_text())


@pytest.mark.parametrize("name", sorted(reference.OPTIMIZERS))
def test_reference_has_grid_goldens_and_mutants(name, manifest):
    assert missing(name, GRID, manifest, MUTANTS) == []


def test_each_lack_is_reported(manifest):
    assert len(missing("newopt", GRID, manifest, MUTANTS)) == 3
    without_grid = {k: v for k, v in GRID.items() if k != "adam"}
    without_golden = {**manifest, "files": {k: v for k, v in manifest["files"].items() if k != "adam.npz"}}
    without_mutants = [m for m in MUTANTS if m.reference != "adam"]
    for lacks, args in [("no cases", (without_grid, manifest, MUTANTS)),
                        ("no goldens", (GRID, without_golden, MUTANTS)),
                        ("no mutants", (GRID, manifest, without_mutants))]:
        found = missing("adam", *args)
        assert len(found) == 1 and found[0].startswith(lacks)
