"""reference/rmsprop.py computes what torch.optim.RMSprop computes (float64, for-loop path).

Hypothesis draws hyperparameters, a start and gradients; the reference on Python floats
and torch take the same gradients. For params and every state buffer, over the whole
history, max |ref - torch| <= RTOL * max |torch| + DRIFT_FACTOR * drift.

drift is how far the reference itself moves when every parameter and state element
takes a one-ulp error of random sign after each step (worst of two seeds), the
allowance tests/test_reference_vs_torch.py uses for Adam. RMSprop needs it where the
centered variance v - a^2 cancels: with weight decay dominating small gradients, g_t
barely changes between steps, v - a^2 is a tiny fraction of v, and the rounding of v
and a (torch lerps a and fuses addcmul; the reference multiplies and adds) is amplified
by v / (v - a^2). Found by hypothesis: alpha = 0.5, eps = 1, weight_decay = 1,
momentum = 0.5, a tensor of parameters ~100 with gradients ~1: momentum_buffer off by
2.3e-12 relative after 30 steps. Runs without that cancellation have drift near one ulp,
so there the bound is RTOL in effect.

Where the draws had to be shaped (measured): centered RMSprop takes sqrt(v - a^2). With
alpha = 0, v - a^2 is g * g - g * g: the reference gets 0, torch's addcmul is fused and
leaves the rounding residue of g * g, about 1e-17 g^2 and negative for about half the
elements, so sqrt gives NaN there (seen: 11 of 23 elements at step 1). Both are right to
rounding on an ill-conditioned quantity, so centered draws keep alpha >= 0.1, where
v - a^2 >= alpha (1 - alpha) g^2 at step 1 and stays a fair fraction of v with fresh
gradients.
"""
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from golden.grid.rmsprop import CASES
from reference import problems, rmsprop, trajectory

SHAPES = [(3, 4), (5,), (2, 1, 3)]
RTOL = 1e-12
DRIFT_FACTOR = 32
SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def hyperparameters(draw):
    centered = draw(st.booleans())
    return dict(lr=10.0 ** draw(st.floats(-4, -1)), alpha=draw(st.floats(0.1 if centered else 0.0, 0.999)),
                eps=10.0 ** draw(st.floats(-10, 0)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0, 1))),
                momentum=draw(st.one_of(st.just(0.0), st.floats(0, 0.99))), centered=centered,
                maximize=draw(st.booleans()))


@st.composite
def run_data(draw, steps):
    """A start and per-step gradients, each tensor with its own scale (mixed magnitudes)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    start = [rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)]
    return start, [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)]


def run_reference(hp, start, grads, perturb=None, variant="torch"):
    """{quantity: history (steps [+ 1], n), tensors concatenated}; ``perturb`` (a random.Random)
    adds a one-ulp error of random sign to every parameter and state element after each step."""
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [rmsprop.init_state(len(t), hp) for t in tensors]
    hist = {"params": [sum(tensors, [])]}
    for step_grads in grads:
        for t, g, state in zip(tensors, step_grads, states):
            rmsprop.step(t, [float(x) for x in g.ravel()], state, variant=variant, **hp)
            for values in [t] + [v for v in state.values() if isinstance(v, list)] if perturb else []:
                values[:] = [x + 2.0 ** -53 * abs(x) * perturb.choice((-1.0, 1.0)) for x in values]
        hist["params"].append(sum(tensors, []))
        for name in set(states[0]) - {"step"}:
            hist.setdefault(name, []).append(sum((s[name] for s in states), []))
    assert all(s["step"] == len(grads) for s in states)
    return {k: np.array(v) for k, v in hist.items()}


def run_torch(hp, start, grads):
    params = [torch.tensor(p, dtype=torch.float64) for p in start]
    opt = torch.optim.RMSprop(params, foreach=False, **hp)
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


def assert_agree(hp, start, grads, variant="torch"):
    ref, tor = run_reference(hp, start, grads, variant=variant), run_torch(hp, start, grads)
    assert set(ref) == set(tor), f"state names differ: {sorted(ref)} vs {sorted(tor)}"
    drift = {k: 0.0 for k in ref}
    for seed in (1, 2):
        for k, rows in run_reference(hp, start, grads, random.Random(seed), variant).items():
            drift[k] = max(drift[k], np.abs(rows - ref[k]).max())
    for name in ref:
        err, scale = np.abs(ref[name] - tor[name]).max(), np.abs(tor[name]).max()
        bound = RTOL * scale + DRIFT_FACTOR * drift[name]
        assert err <= bound, f"{name}: max abs diff {err:.3e}, scale {scale:.3e}, bound {bound:.3e}"


@SETTINGS
@given(hyperparameters(), run_data(1))
def test_one_step_matches_torch(hp, data):
    assert_agree(hp, *data)


@SETTINGS
@given(hyperparameters(), run_data(30))
def test_thirty_steps_match_torch(hp, data):
    assert_agree(hp, *data)


@pytest.mark.parametrize("variant", [v for v in rmsprop.VARIANTS if v != "torch"])
def test_variant_differs_from_torch(variant):
    moved = 0.0
    for case in CASES:
        problem = problems.get(case.problem, case.negate)
        torch_params = np.array(trajectory.run(rmsprop, problem, case.hp, 50)[0])
        variant_params = np.array(trajectory.run(rmsprop, problem, case.hp, 50, variant=variant)[0])
        moved = max(moved, np.abs(variant_params - torch_params).max() / np.abs(torch_params).max())
    assert moved > 1e-4


@pytest.mark.parametrize("variant", [v for v in rmsprop.VARIANTS if v != "torch"])
def test_agreement_measure_tells_each_variant_from_torch(variant):
    """The measure, drift allowance included, fails a variant on a case that excites it."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(5)]
    hp = dict(lr=0.01, alpha=0.9, eps=0.1, weight_decay=0.1, momentum=0.5, centered=True, maximize=True)
    assert_agree(hp, start, grads)
    with pytest.raises(AssertionError, match="params"):
        assert_agree(hp, start, grads, variant=variant)
