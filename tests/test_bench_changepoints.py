"""Change points in synthetic series with known steps."""
import numpy as np
import pytest

from optgold.bench import changepoints


def series(rng, levels, noise=0.02):
    """Step times: each (length, level) run of points, lognormal noise around it."""
    values = np.concatenate([np.full(length, level) for length, level in levels])
    return values * np.exp(rng.normal(0, noise, values.size))


def test_one_step_is_found_where_it_is():
    rng = np.random.default_rng(0)
    changes = changepoints.find(series(rng, [(20, 10e-3), (15, 11e-3)]))
    assert [c.index for c in changes] == [20]
    assert changes[0].ratio == pytest.approx(1.10, abs=0.02)


def test_two_steps_up_then_back_down():
    rng = np.random.default_rng(1)
    changes = changepoints.find(series(rng, [(15, 10e-3), (10, 12e-3), (15, 10e-3)]))
    assert [c.index for c in changes] == [15, 25]
    assert changes[0].ratio > 1.15 and changes[1].ratio < 0.87


@pytest.mark.parametrize("seed", range(20))
def test_pure_noise_has_no_change(seed):
    rng = np.random.default_rng(100 + seed)
    assert changepoints.find(series(rng, [(30, 10e-3)])) == []


def test_noise_level_comes_from_the_series_not_a_fixed_threshold():
    # a 10% step in 1% noise is obvious; the same step in 15% noise is not a change
    rng = np.random.default_rng(2)
    assert changepoints.find(series(rng, [(20, 1.0), (20, 1.1)], noise=0.01))
    assert not changepoints.find(series(rng, [(20, 1.0), (20, 1.1)], noise=0.15))


def test_head_regression_is_a_last_step_up_beyond_the_threshold():
    rng = np.random.default_rng(3)
    slower_at_head = changepoints.find(series(rng, [(20, 1.0), (4, 1.2)]))
    assert changepoints.head_regression(slower_at_head).index == 20
    faster_at_head = changepoints.find(series(rng, [(20, 1.0), (4, 0.8)]))
    assert changepoints.head_regression(faster_at_head) is None
    fixed_since = changepoints.find(series(rng, [(10, 1.0), (10, 1.2), (10, 1.0)]))
    assert len(fixed_since) == 2 and changepoints.head_regression(fixed_since) is None


def test_too_short_for_a_change():
    assert changepoints.find([1.0, 2.0, 1.0]) == []
    assert changepoints.find([1.0, 1.0, 1.0, 1.0, 1.0]) == []  # flat: the noise floor keeps it whole
