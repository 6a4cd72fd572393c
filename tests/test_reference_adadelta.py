"""reference/adadelta.py computes what torch.optim.Adadelta computes (float64, for-loop path).

Hypothesis draws hyperparameters, a start and gradients; the reference on Python floats
and torch take the same gradients. For params and every state buffer, over the whole
history, max |ref - torch| <= RTOL * max |torch|. Both sides round differently (torch
divides two square roots and then multiplies by g; the reference does the same in
another association), but no term of Adadelta amplifies rounding much: 300 drawn
examples of 30 steps, weight decay up to 1 included, stayed within RTOL = 1e-12.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from golden.grid.adadelta import CASES
from reference import adadelta, problems, trajectory

SHAPES = [(3, 4), (5,), (2, 1, 3)]
RTOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def hyperparameters(draw):
    return dict(lr=10.0 ** draw(st.floats(-3, 0.5)), rho=draw(st.floats(0.0, 0.999)),
                eps=10.0 ** draw(st.floats(-10, -1)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0, 1))),
                maximize=draw(st.booleans()))


@st.composite
def run_data(draw, steps):
    """A start and per-step gradients, each tensor with its own scale (mixed magnitudes)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    start = [rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)]
    return start, [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)]


def run_reference(hp, start, grads):
    """{quantity: history (steps [+ 1], n), tensors concatenated}."""
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [adadelta.init_state(len(t), hp) for t in tensors]
    hist = {"params": [sum(tensors, [])]}
    for step_grads in grads:
        for t, g, state in zip(tensors, step_grads, states):
            adadelta.step(t, [float(x) for x in g.ravel()], state, **hp)
        hist["params"].append(sum(tensors, []))
        for name in set(states[0]) - {"step"}:
            hist.setdefault(name, []).append(sum((s[name] for s in states), []))
    assert all(s["step"] == len(grads) for s in states)
    return {k: np.array(v) for k, v in hist.items()}


def run_torch(hp, start, grads):
    params = [torch.tensor(p, dtype=torch.float64) for p in start]
    opt = torch.optim.Adadelta(params, foreach=False, **hp)
    hist = {"params": [torch.cat([p.flatten() for p in params]).tolist()]}
    for step_grads in grads:
        for g, p in zip(step_grads, params):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        hist["params"].append(torch.cat([p.flatten() for p in params]).tolist())
        for name in set(opt.state[params[0]]) - {"step"}:
            hist.setdefault(name, []).append(torch.cat([opt.state[p][name].flatten() for p in params]).tolist())
    assert all(int(opt.state[p]["step"]) == len(grads) for p in params)
    return {k: np.array(v) for k, v in hist.items()}


def assert_agree(hp, start, grads):
    ref, tor = run_reference(hp, start, grads), run_torch(hp, start, grads)
    assert set(ref) == set(tor), f"state names differ: {sorted(ref)} vs {sorted(tor)}"
    for name in ref:
        err, scale = np.abs(ref[name] - tor[name]).max(), np.abs(tor[name]).max()
        assert err <= RTOL * scale, f"{name}: max abs diff {err:.3e}, scale {scale:.3e}"


@SETTINGS
@given(hyperparameters(), run_data(1))
def test_one_step_matches_torch(hp, data):
    assert_agree(hp, *data)


@SETTINGS
@given(hyperparameters(), run_data(30))
def test_thirty_steps_match_torch(hp, data):
    assert_agree(hp, *data)


@pytest.mark.parametrize("variant", [v for v in adadelta.VARIANTS if v != "torch"])
def test_variant_differs_from_torch_on_the_grid(variant):
    moved = 0.0
    for case in CASES:
        problem = problems.get(case.problem, case.negate)
        torch_params = np.array(trajectory.run(adadelta, problem, case.hp, 50)[0])
        variant_params = np.array(trajectory.run(adadelta, problem, case.hp, 50, variant=variant)[0])
        moved = max(moved, np.abs(variant_params - torch_params).max() / np.abs(torch_params).max())
    assert moved > 1e-4

