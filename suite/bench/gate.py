"""The regression gate's judgement: is IMPL not slower, slower, or not yet known, on one workload?

The data are paired step times (IMPL, baseline) from interleaved rounds; the statistic
is the paired log ratio r_i = log(t_IMPL,i / t_base,i), the estimate exp(median r).
Two one-sided sign tests judge it. They assume only independent pairs, not a noise
distribution: timing noise is skewed and has outliers (a neighbour's job, an
interrupt), which sign tests shrug off. With d = log(1 + threshold):

* *not slower*: the test of "median r >= d" rejects, i.e. the upper end of the
  ratio's interval is below 1 + threshold. This is what a pass has to show: a pass
  means "shown within the threshold", never "not shown slower".
* *slower*: the test of "median r <= 0" rejects (the lower end is above 1, IMPL is
  significantly slower) and not slower cannot be shown (the upper end is at or above
  1 + threshold). Demanding the whole interval above 1 + threshold instead would
  catch a slowdown of exactly the threshold at most half the time, however long it
  sampled. Under sequential sampling (suite/bench/gaterun.py) the first of the two
  to be shown wins, so a true slowdown s is, in the limit, called slower when it is
  nearer the threshold than zero (s > threshold / 2) and not slower otherwise; a
  precisely measured 0.5% slowdown under a 2% threshold passes.
* *inconclusive*: neither.

Error rates. A run looks at the data up to ``LOOKS`` times. Each look tests "slower"
at alpha / (LOOKS * workloads) per workload and "not slower" at alpha / LOOKS: a
Bonferroni split over looks and workloads, which by the union bound keeps both
family-wise rates at alpha whatever the (strong) dependence between nested looks.
An A/A run (no slowdown) therefore exits 1 with probability at most alpha; a
workload slowed by the threshold or more is called not slower, and the run passes,
with probability at most alpha (a pass needs every workload not slower, so that
error needs no split over workloads). The split is equal because how many looks a
run reaches depends on its budget and the machine, so no look is privileged. Within
a look, Holm's step-down would name more workloads slower once one is, but the
exit code is fixed by the first, and Bonferroni keeps the printed interval exactly
the test.

Everything works on counts, so one core serves the real gate (one run) and its
simulations (thousands of runs at once, suite/bench/selfcheck.py).
"""
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binom

LOOKS = 8  # most looks a gate run takes; the levels are split over them
INCONCLUSIVE, NOT_SLOWER, SLOWER = 0, 1, 2
NAMES = {INCONCLUSIVE: "inconclusive", NOT_SLOWER: "not slower", SLOWER: "slower"}
CODES = {name: code for code, name in NAMES.items()}


@dataclass(frozen=True)
class Levels:
    """The one-sided level of each test at one look."""
    slower: float
    not_slower: float

    @classmethod
    def split(cls, alpha, workloads, looks=LOOKS):
        return cls(alpha / (looks * workloads), alpha / looks)


def critical_count(n, level):
    """Most pairs on the wrong side of the hypothesis a sign test on ``n`` pairs may see and still reject it.

    The largest c with P(Binomial(n, 1/2) <= c) < level; -1 where no count can reject
    (too few pairs).
    """
    n = np.asarray(n)
    c = binom.ppf(level, np.maximum(n, 1), 0.5) - 1
    c = np.where(binom.cdf(c + 1, np.maximum(n, 1), 0.5) < level, c + 1, c)  # ppf's rounding at the boundary
    return np.where(n > 0, c, -1).astype(int)


def classify(n, not_above_zero, at_or_above_threshold, levels):
    """Verdict codes from counts, elementwise: pairs ``n``, of them #(r <= 0) and #(r >= log(1 + threshold))."""
    not_slower = at_or_above_threshold <= critical_count(n, levels.not_slower)
    significant = not_above_zero <= critical_count(n, levels.slower)
    return np.where(not_slower, NOT_SLOWER, np.where(significant, SLOWER, INCONCLUSIVE))


def counts(log_ratios, threshold):
    """(#(r <= 0), #(r >= log(1 + threshold))) over the last axis."""
    r = np.asarray(log_ratios, dtype=float)
    return (r <= 0).sum(axis=-1), (r >= np.log1p(threshold)).sum(axis=-1)


def bounds(log_ratios, levels):
    """(low, high) of the ratio: the order statistics the two tests compare with 1 and 1 + threshold.

    ``low > 1`` exactly when "slower" is significant, ``high < 1 + threshold`` exactly
    when "not slower" is shown; a bound too few pairs cannot give is 0 or inf.
    """
    x = np.sort(np.asarray(log_ratios, dtype=float))
    n = len(x)
    c_low, c_high = int(critical_count(n, levels.slower)), int(critical_count(n, levels.not_slower))
    low = np.exp(x[c_low]) if c_low >= 0 else 0.0
    high = np.exp(x[n - 1 - c_high]) if c_high >= 0 else np.inf
    return float(low), float(high)


@dataclass
class Verdict:
    """One workload's gate result; ratios are IMPL time / baseline time (above 1: IMPL slower)."""
    benchmark: str
    pairs: int
    looks: int
    ratio: float
    ratio_low: float
    ratio_high: float
    threshold: float
    verdict: str  # "not slower", "slower", "inconclusive"
    reason: str

    @property
    def code(self):
        return CODES[self.verdict]

    @property
    def slower(self):
        return self.verdict == NAMES[SLOWER]

    @property
    def not_slower(self):
        return self.verdict == NAMES[NOT_SLOWER]

    def as_json(self):
        return asdict(self)


def judge(benchmark, log_ratios, threshold, levels, looks, why_open="no look left"):
    """The Verdict for one workload's pairs, as the look that ended its sampling saw them.

    ``why_open`` says why sampling stopped where the data are still inconclusive.
    """
    r = np.asarray(log_ratios, dtype=float)
    code = int(classify(len(r), *counts(r, threshold), levels))
    low, high = bounds(r, levels)
    limit = 1 + threshold
    if code == NOT_SLOWER:
        reason = f"upper end {high:.3f} < {limit:.3f}"
    elif code == SLOWER:
        reason = f"lower end {low:.3f} > 1 (significantly slower), upper end {high:.3f} >= {limit:.3f}"
    else:
        reason = f"{why_open}; the interval holds both 1 and {limit:.3f}"
    return Verdict(benchmark, len(r), looks, float(np.exp(np.median(r))), low, high, threshold, NAMES[code], reason)


def exit_verdict(codes):
    """The run's verdict from its workloads' codes (last axis): any slower, else all not slower, else inconclusive."""
    codes = np.asarray(codes)
    return np.where((codes == SLOWER).any(axis=-1), SLOWER,
                    np.where((codes == NOT_SLOWER).all(axis=-1), NOT_SLOWER, INCONCLUSIVE))
