"""Scheduler goldens: stored files reproduce byte for byte, loading checks hash and shape, and
generate/check in golden/generate.py include them."""
import shutil

import numpy as np
import pytest

from optgold.golden import generate, schedules, store
from optgold.golden.schedules import FILE, GRID, load_cases


def test_stored_scheduler_goldens_are_reproduced_byte_for_byte():
    manifest = store.read_manifest(store.PACKAGED_DIR)["files"]
    for name, (meta, arrays) in schedules.build().items():
        assert manifest[name]["sha256"] == store.sha256(store.encode(meta, arrays)), f"{name}: regenerate it"
        assert manifest[name]["cases"] == len(meta["cases"])


def test_generate_builds_schedulers_with_the_optimizers_and_by_name():
    files = generate.build(names=["step_lr", "swalr"], certify=False)
    assert set(files) == {FILE.format("step_lr"), FILE.format("swalr")}


def test_loaded_cases_match_the_grid():
    for name, cases in GRID.items():
        loaded = load_cases(name)
        assert [c.id for c in loaded] == [c.id for c in cases]
        for golden, case in zip(loaded, cases):
            assert golden.hp == case.hp and golden.steps == case.steps
            for q, rows in golden.quantities.items():
                assert rows.shape == (case.steps + 1, 2) and not rows.flags.writeable
                np.testing.assert_array_equal(rows, np.array(schedules.run_reference(case)[q]))
            assert all(error < 1e-14 for error in golden.golden_error.values())


@pytest.fixture
def golden_copy(tmp_path):
    target = tmp_path / "golden"
    shutil.copytree(store.PACKAGED_DIR, target)
    return target


def test_tampered_scheduler_golden_is_refused(golden_copy):
    path = golden_copy / FILE.format("cyclic_lr")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(store.GoldenError, match="sha256 does not match"):
        load_cases("cyclic_lr", golden_copy)


def test_missing_scheduler_golden_says_how_to_fix(golden_copy):
    (golden_copy / FILE.format("swalr")).unlink()
    with pytest.raises(store.GoldenError, match="optgold generate"):
        load_cases("swalr", golden_copy)


def test_golden_with_other_hyperparameters_is_refused(tmp_path):
    meta, arrays = schedules.build(["step_lr"], certify=False)[FILE.format("step_lr")]
    meta["cases"][0]["hp"]["verbose"] = True
    store.write(tmp_path, {FILE.format("step_lr"): (meta, arrays)}, generate.GENERATOR_VERSION)
    with pytest.raises(store.GoldenError, match="do not match the reference"):
        load_cases("step_lr", tmp_path)
