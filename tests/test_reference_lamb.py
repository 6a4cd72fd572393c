"""The lamb reference computes what the hand-written LAMB computes, and its variants do not.

torch.optim has no LAMB, so the reference is checked against tests/mutants/lamb_mutants.py:Lamb
(the class the golden grid proves correct), in float64. Hypothesis draws hyperparameters, a
start and gradients for tensors of several shapes, all-zero tensors included (the trust
ratio's zero-norm convention). Agreement: per tensor and quantity, over the run,
max |ref - impl| <= 1e-12 * max |impl|. The trust ratio feeds ||p|| back into every step,
but it is a smooth, bounded factor: no drift allowance was needed (none in 300 hypothesis
examples of 30 steps; the Adam with coupled decay blow-up of test_reference_vs_torch.py
comes from m / (sqrt(v) + eps) near g + wd p = 0, which LAMB's decay does not enter).
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import lamb
from tests.mutants.lamb_mutants import Lamb

SHAPES = [(3, 4), (5,), (2, 1, 3)]
RTOL = 1e-12
SETTINGS = settings(max_examples=50, deadline=None)
element = st.floats(-1e3, 1e3, allow_subnormal=False).map(lambda x: 0.0 if abs(x) < 1e-100 else x)


@st.composite
def hyperparameters(draw):
    return dict(lr=10.0 ** draw(st.floats(-4, 0)),
                betas=(draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
                eps=10.0 ** draw(st.floats(-12, -1)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))))


@st.composite
def runs(draw, steps):
    """(start, grads per step): element by element (or all zero) for one step; from a seed, mixed
    magnitudes, for more."""
    if steps == 1:
        def tensor(shape):
            n = math.prod(shape)
            values = draw(st.one_of(st.just([0.0] * n), st.lists(element, min_size=n, max_size=n)))
            return np.array(values, dtype=np.float64).reshape(shape)
        return [tensor(s) for s in SHAPES], [[tensor(s) for s in SHAPES]]
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    return ([rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)],
            [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)])


def run_reference(hp, start, grads, variant="torch"):
    """{quantity: per tensor, (rows, n) history}."""
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [lamb.init_state(len(t), hp) for t in tensors]
    hist = {"params": [[list(t)] for t in tensors], "exp_avg": [[] for _ in tensors],
            "exp_avg_sq": [[] for _ in tensors]}
    for step_grads in grads:
        for k, (p, g, state) in enumerate(zip(tensors, step_grads, states)):
            lamb.step(p, [float(x) for x in g.ravel()], state, variant=variant, **hp)
            hist["params"][k].append(list(p))
            for name in ("exp_avg", "exp_avg_sq"):
                hist[name][k].append(list(state[name]))
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}


def run_impl(hp, start, grads):
    params = [torch.tensor(p, dtype=torch.float64) for p in start]
    opt = Lamb(params, **hp)
    hist = {"params": [[p.flatten().tolist()] for p in params], "exp_avg": [[] for _ in params],
            "exp_avg_sq": [[] for _ in params]}
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        for k, p in enumerate(params):
            hist["params"][k].append(p.flatten().tolist())
            for name in ("exp_avg", "exp_avg_sq"):
                hist[name][k].append(opt.state[p][name].flatten().tolist())
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}


def check(hp, start, grads):
    ref, impl = run_reference(hp, start, grads), run_impl(hp, start, grads)
    for name in ref:
        for k, (a, b) in enumerate(zip(ref[name], impl[name])):
            err, scale = np.abs(a - b).max(), np.abs(b).max()
            assert err <= RTOL * scale, f"{name}[tensor {k}]: max abs diff {err:.3e}, scale {scale:.3e}"


@SETTINGS
@given(hyperparameters(), runs(1))
def test_one_step_matches_the_correct_implementation(hp, run):
    check(hp, *run)


@SETTINGS
@given(hyperparameters(), runs(30))
def test_thirty_steps_match_the_correct_implementation(hp, run):
    check(hp, *run)


def test_zero_norms_give_trust_ratio_one():
    """A zero tensor, or a zero update (zero gradient, no decay), steps by lr * update: ratio 1."""
    hp = dict(lr=0.1, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0)
    p, state = [0.0, 0.0, 0.0], lamb.init_state(3, hp)
    lamb.step(p, [1.0, -2.0, 0.0], state, **hp)
    assert p == pytest.approx([-0.1, 0.1, 0.0], rel=1e-5)  # r = +-1 (to eps), ratio 1
    q, state = [1.0, 2.0], lamb.init_state(2, hp)
    lamb.step(q, [0.0, 0.0], state, **hp)
    assert q == [1.0, 2.0]


# each variant moves the parameters on a case that excites it: ||p|| > 10, eps and bias correction
# that matter, and decay on (for decay_outside_ratio) or off (for adapt_only_with_decay)
@pytest.mark.parametrize("variant", [v for v in lamb.VARIANTS if v != "torch"])
def test_variant_differs_from_torch(variant):
    hp = dict(lr=0.05, betas=(0.9, 0.999), eps=0.1, weight_decay=0.0 if variant == "adapt_only_with_decay" else 0.3)
    rng = np.random.default_rng(0)
    start = [10 * rng.standard_normal(s) for s in SHAPES]
    grads = [[0.1 * rng.standard_normal(s) for s in SHAPES] for _ in range(10)]
    ref, other = run_reference(hp, start, grads), run_reference(hp, start, grads, variant)
    assert max(np.abs(a - b).max() for a, b in zip(ref["params"], other["params"])) > 1e-4
