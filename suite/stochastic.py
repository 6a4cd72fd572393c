"""Stochastic rounding, judged: every stored parameter one of the two neighbours of its exact value,
and its upward roundings as frequent as the exact value's position between them says.

An implementation that rounds stochastically (torchao's bf16_stochastic_round) stores x* as
its upper neighbour hi with probability p = (x* - lo) / (hi - lo), so that the expected
stored value is x*: updates below half an ulp still move the parameter on average. At each
step, x* is walked by the reference from the implementation's own previous params and state
(optgold.local), and known to within the rounding of the update's computation, e =
C * (u * (|x* - p_{t-1}| + its mean) + floor).

- Every stored value must lie in [down(x* - e), up(x* + e)]: the neighbours, widened by e.
- Where x* is further than e from both ends of its cell, each rounding is a Bernoulli
  trial with a known p, independent of the others: the number of upward roundings is
  Poisson-binomial. It is tested exactly (two-sided), per element over the case's steps and
  pooled over all, with Bonferroni's correction over those tests, so that a correct
  implementation fails a case with probability below ALPHA.

A round-to-nearest implementation fails the test where its updates are below half an ulp
(it never rounds up toward them): the failure names it as stagnation.
"""
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import poisson_binom

from optgold import compare
from optgold.golden.dtypes import C
from optgold.representable import neighbours

ALPHA = 1e-6  # the chance that a correct implementation fails one case, over all of the case's tests


@dataclass
class Tally:
    """The case's Bernoulli trials: per flat element, the probabilities of rounding up and the outcomes."""
    p: dict = field(default_factory=dict)
    up: dict = field(default_factory=dict)
    nearest: dict = field(default_factory=dict)  # whether each outcome was the nearest neighbour
    last_step: int = 0

    def add(self, offset, t, p, up, nearest):
        for i in np.nonzero(~np.isnan(p))[0]:
            self.p.setdefault(offset + i, []).append(p[i])
            self.up.setdefault(offset + i, []).append(bool(up[i]))
            self.nearest.setdefault(offset + i, []).append(bool(nearest[i]))
        self.last_step = t

    def divergence(self, shapes):
        """A compare.Finding for the most significant biased test below ALPHA / tests, or None."""
        if not self.p:
            return None
        tests = {i: (np.array(self.p[i]), np.array(self.up[i])) for i in self.p}
        pooled = (np.concatenate([p for p, _ in tests.values()]), np.concatenate([u for _, u in tests.values()]))
        count = len(tests) + 1
        worst = min(((_p_value(*pooled), None), *((_p_value(*tests[i]), i) for i in tests)), key=lambda v: v[0])
        value, element = worst
        if value >= ALPHA / count:
            return None
        p, up = pooled if element is None else tests[element]
        where = "all elements pooled" if element is None else f"element {element}"
        tensor, index = (-1, ()) if element is None else compare.locate(element, shapes)
        all_nearest = all(v for values in self.nearest.values() for v in values)
        cause = ("stagnation: every parameter was rounded to its nearest neighbour, so updates below half an ulp "
                 "are lost; stochastic rounding was declared" if all_nearest else "biased stochastic rounding")
        text = (f"{cause}: params rounded up {int(up.sum())} of {len(up)} times ({where}, to step {self.last_step}) "
                f"where {p.sum():.1f} were expected (exact two-sided Poisson-binomial test, p = {value:.2g} "
                f"< {ALPHA:g} / {count} tests)")
        return compare.Finding("params (stochastic rounding)", self.last_step, tensor, index, float(up.sum()),
                               float(p.sum()), ALPHA / count, text)


def _p_value(p, up):
    """Two-sided: twice the smaller tail of the observed number of upward roundings, at most 1."""
    k, distribution = int(up.sum()), poisson_binom(p)
    return float(min(1.0, 2 * min(distribution.cdf(k), distribution.sf(k - 1))))


def compare_step(t, k, offset, observed, expected, before, dtype, unit, floor, shapes, tally):
    """(Divergence or None, 0 or 1 for inside or outside, max |error|) of one tensor's stochastically
    rounded params at step t; the step's Bernoulli trials go into ``tally``."""
    observed, expected = np.asarray(observed, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    moved = np.abs(expected - np.asarray(before))
    e = C * (unit * (moved + moved.mean()) + floor)
    low, _ = neighbours(expected - e, dtype)
    _, high = neighbours(expected + e, dtype)
    down, up = neighbours(expected, dtype)
    error = np.maximum(low - observed, observed - high)
    outside = ~(error <= 0)  # a NaN is outside
    if outside.any():
        i = int(np.argmax(np.where(outside, np.nan_to_num(error, nan=np.inf), -np.inf)))
        index = tuple(int(v) for v in np.unravel_index(i, shapes[k]))
        return (compare.Divergence("params (stochastic rounding: not a neighbour of the exact value)", t, k, index,
                                   float(observed[i]), float(expected[i]), float(high[i] - low[i])),
                1.0, float(np.nan_to_num(np.abs(observed - expected), nan=np.inf).max()))
    clear = (low == down) & (high == up) & (up > down)  # a trial whose probability is known
    p = np.where(clear, (expected - down) / np.where(up > down, up - down, 1.0), np.nan)
    nearest = np.where(expected - down <= up - expected, down, up)
    tally.add(offset, t, p, observed == up, observed == nearest)
    # inside the neighbours is all a value can be judged on: what the case reports as used is the whole
    # trajectory's share of its bound (optgold.storage_drift)
    return None, 0.0, float(np.abs(observed - expected).max(initial=0.0))
