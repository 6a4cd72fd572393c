"""reference/asgd.py computes what torch.optim.ASGD computes (float64, for-loop path).

Hypothesis draws hyperparameters, a start and gradients; the reference on Python floats
and torch take the same gradients. For params, ax, eta and mu, over the whole history,
max |ref - torch| <= RTOL * max |torch|: ASGD's update is linear in p and g, and eta and
mu are computed by the same Python expression on both sides.

torch keeps eta and mu in its default dtype, float32 unless set otherwise, so a float64
run with the default dtype left at float32 is off by about 3e-8 relative from the first
step (the float32_scalars variant; measured on the grid). The comparison therefore sets
torch's default dtype to float64 while torch runs.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from golden.grid.asgd import CASES
from reference import asgd, problems, trajectory

SHAPES = [(3, 4), (5,), (2, 1, 3)]
RTOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def hyperparameters(draw):
    return dict(lr=10.0 ** draw(st.floats(-4, -0.5)), lambd=10.0 ** draw(st.floats(-4, 1)),
                alpha=draw(st.floats(0.0, 1.5)), t0=draw(st.one_of(st.just(1e6), st.floats(0.0, 40.0))),
                weight_decay=draw(st.one_of(st.just(0.0), st.floats(0, 1))), maximize=draw(st.booleans()))


@st.composite
def run_data(draw, steps):
    """A start and per-step gradients, each tensor with its own scale (mixed magnitudes)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    start = [rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)]
    return start, [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)]


def flat(value):
    return value if isinstance(value, list) else [value]


def run_reference(hp, start, grads, variant="torch"):
    """{quantity: history, tensors concatenated (eta and mu: one number per tensor)}."""
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [asgd.init_state(len(t), hp) for t in tensors]
    hist = {"params": [sum(tensors, [])]}
    for step_grads in grads:
        for t, g, state in zip(tensors, step_grads, states):
            asgd.step(t, [float(x) for x in g.ravel()], state, variant=variant, **hp)
        hist["params"].append(sum(tensors, []))
        for name in ("eta", "mu", "ax"):
            hist.setdefault(name, []).append(sum((flat(s[name]) for s in states), []))
    assert all(s["step"] == len(grads) for s in states)
    return {k: np.array(v) for k, v in hist.items()}


def run_torch(hp, start, grads):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch's eta and mu in float64, as the parameters
    try:
        params = [torch.tensor(p, dtype=torch.float64) for p in start]
        opt = torch.optim.ASGD(params, foreach=False, **hp)
        hist = {"params": [torch.cat([p.flatten() for p in params]).tolist()]}
        for step_grads in grads:
            for g, p in zip(step_grads, params):
                p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            hist["params"].append(torch.cat([p.flatten() for p in params]).tolist())
            assert set(opt.state[params[0]]) == {"step", "eta", "mu", "ax"}
            for name in ("eta", "mu", "ax"):
                hist.setdefault(name, []).append(torch.cat([opt.state[p][name].flatten() for p in params]).tolist())
        assert all(int(opt.state[p]["step"]) == len(grads) for p in params)
    finally:
        torch.set_default_dtype(previous)
    return {k: np.array(v) for k, v in hist.items()}


def assert_agree(hp, start, grads):
    ref, tor = run_reference(hp, start, grads), run_torch(hp, start, grads)
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


@pytest.mark.parametrize("variant", [v for v in asgd.VARIANTS if v != "torch"])
def test_variant_differs_from_torch_on_the_grid(variant):
    moved = 0.0
    for case in CASES:
        problem = problems.get(case.problem, case.negate)
        torch_params = np.array(trajectory.run(asgd, problem, case.hp, 50)[0])
        variant_params = np.array(trajectory.run(asgd, problem, case.hp, 50, variant=variant)[0])
        moved = max(moved, np.abs(variant_params - torch_params).max() / np.abs(torch_params).max())
    assert moved > (1e-9 if variant == "float32_scalars" else 1e-4)


def test_torch_with_float32_default_dtype_is_the_float32_scalars_variant():
    """What a float64 check of torch.optim.ASGD sees when torch's default dtype is float32."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(5)]
    hp = dict(lr=0.01, lambd=0.5, alpha=0.75, t0=2.0, weight_decay=0.1, maximize=False)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)  # torch's own default: eta and mu in float32
    try:
        params = [torch.tensor(p, dtype=torch.float64) for p in start]
        opt = torch.optim.ASGD(params, foreach=False, **hp)
        for step_grads in grads:
            for g, p in zip(step_grads, params):
                p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
    finally:
        torch.set_default_dtype(previous)
    observed = torch.cat([p.flatten() for p in params]).numpy()
    exact = run_reference(hp, start, grads)["params"][-1]
    rounded = run_reference(hp, start, grads, variant="float32_scalars")["params"][-1]
    assert np.abs(observed - rounded).max() <= RTOL * np.abs(observed).max()
    assert np.abs(observed - exact).max() > 100 * RTOL * np.abs(observed).max()  # measured: 3.8e-10
