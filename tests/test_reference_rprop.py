"""reference/rprop.py computes what torch.optim.Rprop computes; its variants are real; its grid is safe.

The reference on Python floats and torch (float64, for-loop path) take the same drawn
gradients. Rprop's arithmetic is a multiply and a clamp per step size and one add per
parameter, in the same order on both sides, so they agree to RTOL = 1e-12 (in fact
exactly). The grid's properties that make it judgeable are tested too: branches that
rounding cannot flip, sign flips, and both clamps reached.
"""
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.golden.grid.rprop import CASES
from optgold.golden.load import load_cases
from optgold.reference import problems, rprop, trajectory
from optgold import tolerance
from tests.reference_agreement import SHAPES, assert_matches

RTOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)
# params, prev and step_size over the whole history, tensors concatenated
assert_agree = partial(assert_matches, rprop, partial(torch.optim.Rprop, foreach=False), rtol=RTOL, per_tensor=False)


@st.composite
def hyperparameters(draw):
    step_min = 10.0 ** draw(st.floats(-8, -2))
    return dict(lr=10.0 ** draw(st.floats(-4, 0)), etas=(draw(st.floats(0.05, 0.95)), draw(st.floats(1.05, 3.0))),
                step_sizes=(step_min, step_min * 10.0 ** draw(st.floats(0.5, 6))), maximize=draw(st.booleans()))


@st.composite
def gradients(draw, steps):
    """Per step, one array per shape; each tensor has its own scale and some exact zeros."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    return [[rng.standard_normal(s) * k * (rng.random(s) > 0.1) for s, k in zip(SHAPES, scales)]
            for _ in range(steps)]


def start_point(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


@SETTINGS
@given(hyperparameters(), gradients(1), st.integers(0, 1000))
def test_one_step_matches_torch(hp, grads, seed):
    assert_agree(hp, start_point(seed), grads)


@SETTINGS
@given(hyperparameters(), gradients(30), st.integers(0, 1000))
def test_thirty_steps_match_torch(hp, grads, seed):
    assert_agree(hp, start_point(seed), grads)


@pytest.mark.parametrize("variant", [v for v in rprop.VARIANTS if v != "torch"])
def test_variant_differs_from_torch(variant):
    moved = 0.0
    for case in CASES:
        problem = problems.get(case.problem, case.negate)
        torch_params = np.array(trajectory.run(rprop, problem, case.hp, 50)[0])
        variant_params = np.array(trajectory.run(rprop, problem, case.hp, 50, variant=variant)[0])
        moved = max(moved, np.abs(variant_params - torch_params).max() / np.abs(torch_params).max())
    assert moved > 1e-3


# -- the grid: branches a correct float32 implementation takes exactly as the golden does ---------------

def hessian_abs_row_sums(problem, x, h=1e-6):
    columns = []
    for j in range(len(x)):
        up, down = list(x), list(x)
        up[j] += h
        down[j] -= h
        columns.append((np.array(problem.gradient(up, 0)) - np.array(problem.gradient(down, 0))) / (2 * h))
    return np.abs(np.array(columns).T).sum(axis=1)


@pytest.mark.parametrize("case", load_cases("rprop"), ids=lambda c: c.id)
def test_case_flips_signs_reaches_both_clamps_and_keeps_branches_decidable(case):
    g = -case.grads if case.negate else case.grads
    prev = np.vstack([np.zeros(case.size), case.state["prev"][:-1]])
    product = g * prev
    step_min, step_max = case.hp["step_sizes"]
    assert (product < 0).sum() >= 100, "too few sign flips"
    assert np.isclose(case.state["step_size"], step_min, rtol=1e-12).any()
    assert np.isclose(case.state["step_size"], step_max, rtol=1e-12).any()
    # replay: float32 reproduces every sign of g_prev * g_t (no product near underflow)
    assert np.abs(product[product != 0]).min() > 1e-30
    # free run: within the judged horizon, no golden gradient element is closer to zero than the
    # gradient can move when the parameters move by the free-run bound's drift allowance
    base = problems.get(case.problem)
    base = getattr(base, "base", base)  # the noise does not depend on the parameters
    allowance = tolerance.C * np.maximum.accumulate(case.drift["float32"])
    for t in range(min(tolerance.free_run_horizon(case, "float32"), case.steps)):
        reach = hessian_abs_row_sums(base, list(case.params[t])) * allowance[t]
        assert (np.abs(case.grads[t]) > reach).all(), f"step {t + 1}: a gradient within rounding reach of zero"
