"""The adagrad reference computes what torch.optim.Adagrad computes, and its variants do not.

Hypothesis draws hyperparameters, a start and gradients for tensors of several shapes;
the reference runs on Python floats, torch.optim.Adagrad (foreach=False) in float64, on
the same gradients. Agreement: per tensor and quantity, over the run,
max |ref - torch| <= 1e-12 * max |torch|, plus DRIFT_FACTOR times how far the
reference itself moves when each parameter takes a one-ulp error per step (weight
decay feeds p back into the gradient; as tests/test_reference_vs_torch.py does for Adam).
"""
from functools import partial

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.reference import adagrad, problems, trajectory
from tests.reference_agreement import assert_matches, log_uniform, runs

RTOL, DRIFT_FACTOR = 1e-12, 32
SETTINGS = settings(max_examples=50, deadline=None)
assert_matches_torch = partial(assert_matches, adagrad, partial(torch.optim.Adagrad, foreach=False), rtol=RTOL,
                               drift_factor=DRIFT_FACTOR)


@st.composite
def hyperparameters(draw):
    return dict(lr=draw(log_uniform(1e-4, 1.0)), lr_decay=draw(st.one_of(st.just(0.0), log_uniform(1e-4, 1.0))),
                weight_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
                initial_accumulator_value=draw(st.one_of(st.just(0.0), log_uniform(1e-6, 10.0))),
                eps=draw(log_uniform(1e-12, 1e-1)), maximize=draw(st.booleans()))


@SETTINGS
@given(hyperparameters(), runs(1))
def test_one_step_matches_torch(hp, run):
    assert_matches_torch(hp, *run)


@SETTINGS
@given(hyperparameters(), runs(30))
def test_thirty_steps_match_torch(hp, run):
    assert_matches_torch(hp, *run)


# each variant, on a case that excites it, moves the trajectory far above rounding
EXCITING = dict(adagrad.DEFAULTS, lr=0.1, lr_decay=0.1, eps=0.1, weight_decay=0.5, maximize=True)


def test_each_variant_differs_from_torch():
    problem = problems.get("quadratic_rotated_10d", negate=True)
    base = np.array(trajectory.run(adagrad, problem, EXCITING, 30)[0])
    for variant in adagrad.VARIANTS:
        moved = np.array(trajectory.run(adagrad, problem, EXCITING, 30, variant=variant)[0])
        difference = np.abs(moved - base).max() / np.abs(base).max()
        assert (difference > 1e-6) == (variant != "torch"), (variant, difference)
