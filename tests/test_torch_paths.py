"""Every torch path that exists passes the default grid, in float64 and float32."""
import pytest

import reference
from suite.check import check
from suite.torch_paths import available_paths, torch_class

CLASSES = {name: torch_class(module) for name, module in reference.OPTIMIZERS.items()}
PATHS = [(name, path, kwargs) for name, cls in CLASSES.items() if cls for path, kwargs in available_paths(cls).items()]


def test_every_torch_class_has_its_forloop_path():
    assert {name for name, path, _ in PATHS if path == "forloop"} == {n for n, c in CLASSES.items() if c}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reference_name, path, kwargs", PATHS, ids=[f"{n}-{p}" for n, p, _ in PATHS])
def test_torch_path_passes_every_case(reference_name, path, kwargs, dtype):
    report = check(CLASSES[reference_name], reference_name, dtype=dtype, impl_args=kwargs)
    failed = [f"{c.id}/{c.mode}: {c.message}" for c in report.cases if c.status == "failed"]
    assert not failed
    assert report.passed and len(report.cases) >= 8
    # correct paths were calibrated to use at most a quarter of the bound; half leaves room for other machines
    assert max(c.tolerance_used for c in report.cases if c.status == "passed") < 0.5
