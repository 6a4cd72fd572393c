"""The CIFAR replay bounds are suite/tolerance.py's replay model, accumulated step by step."""
from types import SimpleNamespace

import numpy as np
import pytest

from golden.dtypes import UNIT_ROUNDOFF
from suite import tolerance
from suite.cifar.tolerance import ParamBound, StateBound


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_running_bounds_equal_the_quadratics_model(dtype):
    rng = np.random.default_rng(0)
    params = np.cumsum(rng.standard_normal((21, 7)) * 0.1, axis=0)
    state = np.abs(rng.standard_normal((20, 7)))
    case = SimpleNamespace(params=params, state={"exp_avg_sq": state}, golden_error={"replay": 0.0})
    # the CIFAR bound counts the float64 golden walk's own rounding too: u_dtype + u_float64
    scale = UNIT_ROUNDOFF[dtype] / (UNIT_ROUNDOFF[dtype] + UNIT_ROUNDOFF["float64"])
    running = ParamBound(params[0], dtype)
    rows = [running.scale * running.accumulated] + [running.advance(p) for p in params[1:]]
    np.testing.assert_allclose(np.array(rows) * scale, tolerance.param_bound(case, dtype, "replay"), rtol=1e-12)
    running_state = StateBound(dtype)
    rows = [running_state.advance(s) for s in state]
    np.testing.assert_allclose(np.array(rows) * scale, tolerance.state_bound(case, "exp_avg_sq", dtype, "replay"),
                               rtol=1e-12)
