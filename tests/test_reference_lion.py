"""The lion reference computes what the hand-written Lion computes, and its variants do not.

torch.optim has no Lion, so the reference is checked against tests/mutants/lion_mutants.py:Lion
(the class the golden grid proves correct), in float64. Hypothesis draws hyperparameters, a
start and gradients for tensors of several shapes. Agreement: per tensor and quantity, over
the run, max |ref - impl| <= 1e-12 * max |impl|. Lion has no feedback that amplifies
rounding (the step is lr * sign(c), the decay a constant factor), so no drift allowance is
needed; a flipped sign (c within rounding of 0) would show as an lr-sized difference, and
random gradients never put c that close to 0.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import lion
from tests.mutants.lion_mutants import Lion

SHAPES = [(3, 4), (5,), (2, 1, 3)]
RTOL = 1e-12
SETTINGS = settings(max_examples=50, deadline=None)
element = st.floats(-1e3, 1e3, allow_subnormal=False).map(lambda x: 0.0 if abs(x) < 1e-100 else x)


@st.composite
def hyperparameters(draw):
    lr = 10.0 ** draw(st.floats(-4, 0))
    return dict(lr=lr, betas=(draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
                weight_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))), maximize=draw(st.booleans()))


@st.composite
def runs(draw, steps):
    """(start, grads per step): element by element for one step; from a seed, mixed magnitudes, for more."""
    if steps == 1:
        def tensors():
            return [np.array(draw(st.lists(element, min_size=math.prod(s), max_size=math.prod(s)))).reshape(s)
                    for s in SHAPES]
        return tensors(), [tensors()]
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    return ([rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)],
            [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)])


def run_reference(hp, start, grads, variant="torch"):
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [lion.init_state(len(t), hp) for t in tensors]
    hist = {"params": [[list(t)] for t in tensors], "exp_avg": [[] for _ in tensors]}
    for step_grads in grads:
        for k, (p, g, state) in enumerate(zip(tensors, step_grads, states)):
            lion.step(p, [float(x) for x in g.ravel()], state, variant=variant, **hp)
            hist["params"][k].append(list(p))
            hist["exp_avg"][k].append(list(state["exp_avg"]))
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}


def run_impl(hp, start, grads):
    params = [torch.tensor(p, dtype=torch.float64) for p in start]
    opt = Lion(params, **hp)
    hist = {"params": [[p.flatten().tolist()] for p in params], "exp_avg": [[] for _ in params]}
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        for k, p in enumerate(params):
            hist["params"][k].append(p.flatten().tolist())
            hist["exp_avg"][k].append(opt.state[p]["exp_avg"].flatten().tolist())
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}


def assert_agree(ref, impl):
    for name in ref:
        for k, (a, b) in enumerate(zip(ref[name], impl[name])):
            err, scale = np.abs(a - b).max(), np.abs(b).max()
            assert err <= RTOL * scale, f"{name}[tensor {k}]: max abs diff {err:.3e}, scale {scale:.3e}"


@SETTINGS
@given(hyperparameters(), runs(1))
def test_one_step_matches_the_correct_implementation(hp, run):
    assert_agree(run_reference(hp, *run), run_impl(hp, *run))


@SETTINGS
@given(hyperparameters(), runs(30))
def test_thirty_steps_match_the_correct_implementation(hp, run):
    assert_agree(run_reference(hp, *run), run_impl(hp, *run))


# each variant moves the parameters on a case that excites it: weight decay, maximize, 10 steps
EXCITING = dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.5, maximize=True)


@pytest.mark.parametrize("variant", [v for v in lion.VARIANTS if v != "torch"])
def test_variant_differs_from_torch(variant):
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(10)]
    ref, other = run_reference(EXCITING, start, grads), run_reference(EXCITING, start, grads, variant)
    assert max(np.abs(a - b).max() for a, b in zip(ref["params"], other["params"])) > 1e-4
