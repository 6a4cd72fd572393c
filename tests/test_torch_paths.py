"""Every torch path that exists passes the default grid, in float64 and float32."""
import pytest
import torch

from suite.check import check

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
PATHS = {"forloop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("reference", OPTIMIZERS)
def test_torch_path_passes_every_case(reference, path, dtype):
    report = check(OPTIMIZERS[reference], reference, dtype=dtype, impl_args=PATHS[path])
    failed = [f"{c.id}/{c.mode}: {c.message}" for c in report.cases if c.status != "passed"]
    assert not failed
    assert report.passed and len(report.cases) >= 14
    # a correct path uses well under the tolerance; a fifth of it is the margin the model is calibrated to
    assert max(c.tolerance_used for c in report.cases) < 0.5
