"""reference.sparse_adam computes what torch.optim.SparseAdam computes (float64), and its variants differ.

Each step a random subset of rows gets a gradient; torch gets it as an uncoalesced sparse
COO tensor (as the suite hands it over: some indices repeated with halved values), the
reference gets the dense gradient, whose zeros are exactly the absent entries (present
values are drawn nonzero: SparseAdam would update a materialized zero, the reference
would not). Agreement: max |ref - torch| <= 1e-12 * max |torch| per tensor and quantity;
nothing feeds p back into the update here, so rounding stays at a few ulps per step.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.reference import problems, sparse_adam, trajectory
from optgold.adapters import sparse_with_repeats

SHAPES = [(3, 4), (5,), (2, 1, 3)]
RTOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)
LONG = settings(max_examples=30, deadline=None)


def log_uniform(low, high):
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: 10.0 ** e)


@st.composite
def hyperparameters(draw):
    return dict(lr=draw(log_uniform(1e-4, 1.0)), betas=(draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
                eps=draw(log_uniform(1e-12, 1e-1)), maximize=draw(st.booleans()))


@st.composite
def sparse_run(draw, steps):
    """Start point and per-step dense gradients with absent rows exactly 0 (at least one row present)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    start = [rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)]
    grads = []
    for _ in range(steps):
        step = []
        for shape, k in zip(SHAPES, g_scales):
            rows = rng.random(shape[0]) < 0.5
            rows[rng.integers(shape[0])] = True
            values = rng.uniform(0.1, 1.0, shape) * rng.choice([-1.0, 1.0], shape) * k
            step.append(values * rows.reshape((-1,) + (1,) * (len(shape) - 1)))
        grads.append(step)
    return start, grads


def run_reference(hp, start, grads, variant="torch"):
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [sparse_adam.init_state(len(t), hp) for t in tensors]
    hist = {"params": [[] for _ in tensors], "exp_avg": [[] for _ in tensors], "exp_avg_sq": [[] for _ in tensors]}
    for step_grads in grads:
        for i, (p, g, state) in enumerate(zip(tensors, step_grads, states)):
            sparse_adam.step(p, [float(x) for x in g.ravel()], state, variant=variant, **hp)
            for name in hist:
                hist[name][i].append(list(p) if name == "params" else list(state[name]))
    return {k: [np.array(rows) for rows in v] for k, v in hist.items()}, states


def run_torch(hp, start, grads):
    params = [torch.tensor(p, dtype=torch.float64) for p in start]
    opt = torch.optim.SparseAdam(params, **hp)
    hist = {"params": [[] for _ in params], "exp_avg": [[] for _ in params], "exp_avg_sq": [[] for _ in params]}
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = sparse_with_repeats(torch.tensor(g, dtype=torch.float64))
        opt.step()
        for i, p in enumerate(params):
            hist["params"][i].append(p.flatten().tolist())
            for name in ("exp_avg", "exp_avg_sq"):
                hist[name][i].append(opt.state[p][name].flatten().tolist())
    return {k: [np.array(rows) for rows in v] for k, v in hist.items()}, [opt.state[p] for p in params]


def assert_agree(hp, start, grads):
    ref, ref_states = run_reference(hp, start, grads)
    tor, tor_states = run_torch(hp, start, grads)
    for name in ref:
        for i, (a, b) in enumerate(zip(ref[name], tor[name])):
            err, scale = np.abs(a - b).max(), np.abs(b).max()
            assert err <= RTOL * scale, f"{name}[tensor {i}]: max abs diff {err:.3e}, scale {scale:.3e}"
    assert all(r["step"] == t["step"] == len(grads) for r, t in zip(ref_states, tor_states))


@SETTINGS
@given(hyperparameters(), sparse_run(1))
def test_one_step_matches_torch(hp, run):
    assert_agree(hp, *run)


@LONG
@given(hyperparameters(), sparse_run(30))
def test_thirty_steps_match_torch(hp, run):
    assert_agree(hp, *run)


def test_absent_rows_keep_params_and_moments():
    hp = dict(sparse_adam.DEFAULTS, lr=0.1)
    param, state = [1.0, 2.0, 3.0], sparse_adam.init_state(3, hp)
    sparse_adam.step(param, [0.5, 0.0, -0.5], state, **hp)
    assert param[1] == 2.0 and state["exp_avg"][1] == 0.0 and state["exp_avg_sq"][1] == 0.0
    assert param[0] != 1.0 and param[2] != 3.0 and state["step"] == 1


@pytest.mark.parametrize("variant", [v for v in sparse_adam.VARIANTS if v != "torch"])
def test_each_variant_differs_from_torch(variant):
    hp = dict(sparse_adam.DEFAULTS, lr=0.02, betas=(0.8, 0.99), eps=0.05)
    problem = problems.get("quadratic_tables_sparse")
    golden, grads, _ = trajectory.run(sparse_adam, problem, hp, 30)
    other, _, _ = trajectory.run(sparse_adam, problem, hp, 30, variant=variant, grads=grads)
    assert np.abs(np.array(other) - np.array(golden)).max() > 1e-4 * np.abs(np.array(golden)).max()
