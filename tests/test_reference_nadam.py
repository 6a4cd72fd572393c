"""The nadam reference computes what torch.optim.NAdam computes, and its variants do not.

Hypothesis draws hyperparameters, a start and gradients for tensors of several shapes;
the reference runs on Python floats, torch.optim.NAdam (foreach=False) in float64, on
the same gradients. Agreement: per tensor and quantity (mu_product included, one number
per tensor), over the run, max |ref - torch| <= 1e-12 * max |torch|, plus DRIFT_FACTOR
times how far the reference itself moves when each parameter takes a one-ulp error per
step: with coupled weight decay p feeds back into the gradient and the update amplifies
rounding where g + weight_decay * p nears zero (as tests/test_reference_vs_torch.py
measured for Adam).

torch runs under torch.set_default_dtype(torch.float64): NAdam keeps mu_product (and
step) as a scalar tensor of the *default* dtype, whatever the parameters' dtype, so
under the float32 default its float64 run carries a float32 mu_product and agrees only
to ~1e-8 relative (measured: 1.4e-8 abs on a 40-step run; 6.7e-16 with the float64
default).
"""
from functools import partial

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.reference import nadam, problems, trajectory
from tests.reference_agreement import assert_matches, log_uniform, runs

RTOL, DRIFT_FACTOR = 1e-12, 32
SETTINGS = settings(max_examples=50, deadline=None)
# mu_product in float64 (see the module docstring)
assert_matches_torch = partial(assert_matches, nadam, partial(torch.optim.NAdam, foreach=False), rtol=RTOL,
                               drift_factor=DRIFT_FACTOR, default_dtype=torch.float64)


@st.composite
def hyperparameters(draw):
    return dict(lr=draw(log_uniform(1e-4, 1.0)), betas=(draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
                eps=draw(log_uniform(1e-12, 1e-1)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
                momentum_decay=draw(st.one_of(st.just(4e-3), log_uniform(1e-4, 1.0))),
                decoupled_weight_decay=draw(st.booleans()), maximize=draw(st.booleans()))


@SETTINGS
@given(hyperparameters(), runs(1))
def test_one_step_matches_torch(hp, run):
    assert_matches_torch(hp, *run)


@SETTINGS
@given(hyperparameters(), runs(30))
def test_thirty_steps_match_torch(hp, run):
    assert_matches_torch(hp, *run)


# each variant, on a case that excites it, moves the trajectory far above rounding
EXCITING = dict(nadam.DEFAULTS, lr=0.01, eps=1e-2, weight_decay=0.5, momentum_decay=0.1, maximize=True)


def test_each_variant_differs_from_torch():
    problem = problems.get("quadratic_rotated_10d", negate=True)
    base = np.array(trajectory.run(nadam, problem, EXCITING, 30)[0])
    for variant in nadam.VARIANTS:
        moved = np.array(trajectory.run(nadam, problem, EXCITING, 30, variant=variant)[0])
        difference = np.abs(moved - base).max() / np.abs(base).max()
        assert (difference > 1e-6) == (variant != "torch"), (variant, difference)
