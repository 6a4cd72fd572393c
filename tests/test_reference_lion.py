"""The lion reference computes what the hand-written Lion computes, and its variants do not.

torch.optim has no Lion, so the reference is checked against tests/mutants/lion_mutants.py:Lion
(the class the golden grid proves correct), in float64. Hypothesis draws hyperparameters, a
start and gradients for tensors of several shapes. Agreement: per tensor and quantity, over
the run, max |ref - impl| <= 1e-12 * max |impl|. Lion has no feedback that amplifies
rounding (the step is lr * sign(c), the decay a constant factor), so no drift allowance is
needed; a flipped sign (c within rounding of 0) would show as an lr-sized difference, and
random gradients never put c that close to 0.
"""
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.reference import lion
from tests.mutants.lion_mutants import Lion
from tests.reference_agreement import SHAPES, assert_matches, run_reference, runs

RTOL = 1e-12
SETTINGS = settings(max_examples=50, deadline=None)
assert_agree = partial(assert_matches, lion, Lion, rtol=RTOL)


@st.composite
def hyperparameters(draw):
    lr = 10.0 ** draw(st.floats(-4, 0))
    return dict(lr=lr, betas=(draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
                weight_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))), maximize=draw(st.booleans()))


@SETTINGS
@given(hyperparameters(), runs(1))
def test_one_step_matches_the_correct_implementation(hp, run):
    assert_agree(hp, *run)


@SETTINGS
@given(hyperparameters(), runs(30))
def test_thirty_steps_match_the_correct_implementation(hp, run):
    assert_agree(hp, *run)


# each variant moves the parameters on a case that excites it: weight decay, maximize, 10 steps
EXCITING = dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.5, maximize=True)


@pytest.mark.parametrize("variant", [v for v in lion.VARIANTS if v != "torch"])
def test_variant_differs_from_torch(variant):
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(10)]
    ref, other = run_reference(lion, EXCITING, start, grads), run_reference(lion, EXCITING, start, grads, variant)
    assert max(np.abs(a - b).max() for a, b in zip(ref["params"], other["params"])) > 1e-4
