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
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.golden.grid.rmsprop import CASES
from optgold.reference import problems, rmsprop, trajectory
from tests.reference_agreement import SHAPES, assert_matches, seeded_run

RTOL = 1e-12
DRIFT_FACTOR = 32
SETTINGS = settings(max_examples=60, deadline=None)
# params and state buffers over the whole history, tensors concatenated; drift perturbs the state too
assert_agree = partial(assert_matches, rmsprop, partial(torch.optim.RMSprop, foreach=False), rtol=RTOL,
                       drift_factor=DRIFT_FACTOR, per_tensor=False, perturb_state=True)


@st.composite
def hyperparameters(draw):
    centered = draw(st.booleans())
    return dict(lr=10.0 ** draw(st.floats(-4, -1)), alpha=draw(st.floats(0.1 if centered else 0.0, 0.999)),
                eps=10.0 ** draw(st.floats(-10, 0)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0, 1))),
                momentum=draw(st.one_of(st.just(0.0), st.floats(0, 0.99))), centered=centered,
                maximize=draw(st.booleans()))


@SETTINGS
@given(hyperparameters(), seeded_run(1))
def test_one_step_matches_torch(hp, data):
    assert_agree(hp, *data)


@SETTINGS
@given(hyperparameters(), seeded_run(30))
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
