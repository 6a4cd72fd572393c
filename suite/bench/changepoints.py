"""Change points in a benchmark's history: where its step time moved, and whether the head regressed.

The method is PELT (Killick et al. 2012, via ``ruptures``) with the l2 cost, a
change in mean, on log step time, so that a step is a relative change. The penalty
is the BIC one for a change in mean with known noise, k * sigma^2 * log(n) with k = 2
parameters per change (where, and the new mean), times ``penalty_scale``. BIC alone
over-splits short series: on 30-point series of pure Gaussian noise it split 17% of
them, twice the penalty 2%, while a step of 3 sigma was still found 96% of the time
(tests/test_bench_changepoints.py holds such series). sigma is estimated robustly
from the series itself, from the median absolute first difference, so that the steps
being looked for do not inflate it. Over a short series that estimate is itself
noisy and can come out too small, which splits the series at noise; so the caller
may give a floor: the sampling error of each stored median, known from its rounds
(``median_sampling_error``), since no run-to-run noise can be smaller than that.
"""
from dataclasses import dataclass

import numpy as np

MIN_NOISE = 1e-3  # log units (0.1%): below this, timing noise is not resolved; stops a flat series splitting


@dataclass
class Change:
    index: int  # first point of the new segment
    before: float  # median step time of the previous segment, seconds
    after: float  # ... of the new segment

    @property
    def ratio(self):
        return self.after / self.before


def noise_sigma(log_values):
    """Robust noise level: MAD of first differences, scaled to a normal sigma (differences have variance 2 sigma^2)."""
    differences = np.diff(log_values)
    if differences.size == 0:
        return MIN_NOISE
    mad = np.median(np.abs(differences - np.median(differences)))
    return max(mad / 0.6745 / np.sqrt(2), MIN_NOISE)


def median_sampling_error(points):
    """Typical standard error of a stored median, in log units.

    IQR / 1.349 estimates sigma; a median of n rounds has standard error sqrt(pi / 2) * sigma / sqrt(n).
    """
    errors = [(p.q3 - p.q1) / 1.349 * np.sqrt(np.pi / 2 / p.rounds) / p.median for p in points if p.rounds > 1]
    return float(np.median(errors)) if errors else 0.0


def find(values, min_size=2, penalty_scale=2.0, noise_floor=0.0):
    """Changes in a series of positive step times, oldest first; ``noise_floor`` in log units."""
    import ruptures

    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2 * min_size:
        return []
    x = np.log(values)
    penalty = penalty_scale * 2 * max(noise_sigma(x), noise_floor) ** 2 * np.log(n)
    ends = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(x.reshape(-1, 1)).predict(pen=penalty)
    starts = [0] + ends[:-1]
    segments = [values[s:e] for s, e in zip(starts, ends)]
    return [Change(start, float(np.median(previous)), float(np.median(segment)))
            for start, previous, segment in zip(starts[1:], segments, segments[1:])]


def head_regression(changes, threshold=0.05):
    """The last change, if it made the newest segment (the head) slower by more than ``threshold``."""
    if changes and changes[-1].ratio > 1 + threshold:
        return changes[-1]
    return None
