"""The CIFAR replay tolerance: a running error bound that holds for the formulas computed in float32."""
import numpy as np
import pytest

from optgold import reference
from optgold.golden.cifar.grid import GRID
from optgold.golden.cifar.lanes import Lanes, _own_arrays
from optgold.golden.dtypes import UNIT_ROUNDOFF
from optgold.cifar.running_error import Bounded, ErrorLanes, unit

U32 = UNIT_ROUNDOFF["float32"]
CASES = [(name, case.hp) for name in GRID for case in GRID[name]]


def _float32_run(optimizer, tensors, grads, hp):
    """The reference formulas computed in float32 (numpy keeps float32 with Python-float hyperparameters)."""
    params = [t.astype(np.float32) for t in tensors]
    states = [_own_arrays(optimizer.init_state(1, hp, np.zeros(t.shape, np.float32))) for t in tensors]
    for step_grads in grads:
        for k, (g, state) in enumerate(zip(step_grads, states)):
            lane = [params[k]]
            optimizer.step(lane, [g.astype(np.float32)], state, **hp)
            params[k] = lane[0]
    return params, states


@pytest.mark.parametrize("ref_name,hp", CASES, ids=[f"{n}-{i}" for n, i in ((n, c.id) for n in GRID for c in GRID[n])])
def test_bound_holds_for_a_float32_run_of_the_formulas(ref_name, hp):
    """Gradients that nearly cancel the weight decay make the worst case; the bound must cover it unscaled."""
    rng = np.random.default_rng(1)
    optimizer = reference.get(ref_name)
    tensors = [rng.uniform(-0.2, 0.2, (64, 9)), rng.uniform(-0.2, 0.2, (64,))]
    decay = hp["weight_decay"]
    grads = [[-decay * t * (1 + rng.normal(0, 0.01, t.shape)) + rng.normal(0, 1e-3, t.shape) * (s % 3 == 0)
              for t in tensors] for s in range(30)]
    observed, observed_states = _float32_run(optimizer, tensors, grads, hp)
    golden, errors = Lanes(optimizer, tensors, hp), ErrorLanes(optimizer, tensors, hp, "float32")
    for step_grads in grads:
        golden.step(step_grads, hp)
        errors.step(step_grads, hp)
    flat = np.concatenate([p.astype(np.float64).reshape(-1) for p in observed])
    bound = errors.param_errors()
    assert (np.abs(flat - golden.flat_params()) <= bound).all()
    assert np.abs(flat - golden.flat_params()).max() > 0.05 * bound.max()  # a bound, not a blanket
    for name in golden.state_names():
        state = np.concatenate([s[name][0].astype(np.float64).reshape(-1) for s in observed_states])
        assert (np.abs(state - golden.flat_state(name)) <= errors.state_errors(name)).all(), name


def test_cancellation_sets_the_bound_by_the_terms_not_the_result():
    u = unit("float32")
    g = Bounded(np.array([2.6530430017106703e-06]), np.array([U32 * 2.6530430017106703e-06]), u)
    p = Bounded(np.array([-0.02552979715635644]), np.array([U32 * 0.02552979715635644]), u)
    total = g + 1e-4 * p  # 1.0e-07: 50x smaller than either term
    assert total.error[0] > 40 * U32 * abs(total.value[0])


def test_sqrt_near_zero_takes_the_interval_not_the_derivative():
    root = Bounded(np.array([1e-30, 4.0]), np.array([1e-20, 0.0]), 0.0) ** 0.5
    assert root.error[0] == pytest.approx(1e-15) and root.error[1] == 0.0


def test_a_branch_on_a_computed_value_is_refused():
    value = Bounded(np.array([1.0]), np.array([0.0]), U32)
    with pytest.raises(TypeError, match="branch"):
        bool(value)
    with pytest.raises(TypeError):
        value > 0  # noqa: B015 -- no comparisons: their outcome could flip within the error
