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
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.reference import lamb
from tests.mutants.lamb_mutants import Lamb
from tests.reference_agreement import SHAPES, assert_matches, element, run_reference, seeded_run

RTOL = 1e-12
SETTINGS = settings(max_examples=50, deadline=None)
check = partial(assert_matches, lamb, Lamb, rtol=RTOL)


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
    return draw(seeded_run(steps))


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
    ref, other = run_reference(lamb, hp, start, grads), run_reference(lamb, hp, start, grads, variant)
    assert max(np.abs(a - b).max() for a, b in zip(ref["params"], other["params"])) > 1e-4
