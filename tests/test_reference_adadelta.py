"""reference/adadelta.py computes what torch.optim.Adadelta computes (float64, for-loop path).

Hypothesis draws hyperparameters, a start and gradients; the reference on Python floats
and torch take the same gradients. For params and every state buffer, over the whole
history, max |ref - torch| <= RTOL * max |torch|. Both sides round differently (torch
divides two square roots and then multiplies by g; the reference does the same in
another association), but no term of Adadelta amplifies rounding much: 300 drawn
examples of 30 steps, weight decay up to 1 included, stayed within RTOL = 1e-12.
"""
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.golden.grid.adadelta import CASES
from optgold.reference import adadelta, problems, trajectory
from tests.reference_agreement import assert_matches, seeded_run

RTOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)
# params and state buffers over the whole history, tensors concatenated
assert_agree = partial(assert_matches, adadelta, partial(torch.optim.Adadelta, foreach=False), rtol=RTOL,
                       per_tensor=False)


@st.composite
def hyperparameters(draw):
    return dict(lr=10.0 ** draw(st.floats(-3, 0.5)), rho=draw(st.floats(0.0, 0.999)),
                eps=10.0 ** draw(st.floats(-10, -1)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0, 1))),
                maximize=draw(st.booleans()))


@SETTINGS
@given(hyperparameters(), seeded_run(1))
def test_one_step_matches_torch(hp, data):
    assert_agree(hp, *data)


@SETTINGS
@given(hyperparameters(), seeded_run(30))
def test_thirty_steps_match_torch(hp, data):
    assert_agree(hp, *data)


@pytest.mark.parametrize("variant", [v for v in adadelta.VARIANTS if v != "torch"])
def test_variant_differs_from_torch_on_the_grid(variant):
    moved = 0.0
    for case in CASES:
        problem = problems.get(case.problem, case.negate)
        torch_params = np.array(trajectory.run(adadelta, problem, case.hp, 50)[0])
        variant_params = np.array(trajectory.run(adadelta, problem, case.hp, 50, variant=variant)[0])
        moved = max(moved, np.abs(variant_params - torch_params).max() / np.abs(torch_params).max())
    assert moved > 1e-4

