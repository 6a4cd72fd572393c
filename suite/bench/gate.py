"""The regression gate: is IMPL slower than the baseline, significantly and by enough to matter?

For each benchmark the data are paired step times (IMPL, baseline) from interleaved
rounds; the statistic is the paired log ratio r_i = log(t_IMPL,i / t_base,i).

* Estimate: the slowdown ratio exp(median r).
* Test: the sign test of median r <= 0 against "IMPL is slower" (one-sided). It
  assumes only independent pairs, not a noise distribution: timing noise is skewed
  and has outliers (a neighbour's job, an interrupt), which the sign test shrugs off.
* Interval: the distribution-free confidence interval of the median from the same
  order statistics (the sign test's own interval).
* Several benchmarks: Holm's step-down correction keeps the family's false-alarm
  rate at ``alpha``.

A benchmark *fails* when IMPL is significantly slower (Holm-adjusted p < alpha) AND a
slowdown of ``threshold`` or more is plausible (the interval's upper end reaches
1 + threshold). The second condition lets a small slowdown that has been measured
precisely pass; judging "above the threshold" by the interval rather than by the
point estimate is what lets a true slowdown of exactly the threshold be caught with
high probability instead of half the time. Slowdowns a little under the threshold
are a grey zone, failed only when they are measured imprecisely.

Numbers match scipy.stats.quantile_test(r, q=0, p=0.5, alternative="greater") and its
two-sided confidence_interval; this module vectorizes them over many replications
(the gate's self-check runs thousands).
"""
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binom


def sign_test(log_ratios, confidence):
    """Sign test over the last axis: (one-sided p that IMPL is slower, median, interval low, interval high).

    The interval is two-sided at ``confidence``; a bound the sample is too small to
    give is -inf / +inf.
    """
    x = np.sort(np.asarray(log_ratios, dtype=float), axis=-1)
    n = x.shape[-1]
    p = binom.cdf((x <= 0).sum(axis=-1), n, 0.5)
    tail = (1 - confidence) / 2
    low_index, high_index = int(binom.ppf(tail, n, 0.5)) - 1, int(binom.isf(tail, n, 0.5))
    low = x[..., low_index] if low_index >= 0 else np.full(x.shape[:-1], -np.inf)
    high = x[..., high_index] if high_index < n else np.full(x.shape[:-1], np.inf)
    return p, np.median(x, axis=-1), low, high


def holm(pvalues, members=None):
    """Holm-adjusted p-values over the last axis (the family); outside ``members`` (a mask) gives nan.

    Step-down: the k-th smallest of m p-values is multiplied by (m - k + 1), then a
    running maximum keeps the order, capped at 1.
    """
    p = np.asarray(pvalues, dtype=float)
    members = np.ones(p.shape, bool) if members is None else np.asarray(members, bool)
    ranked = np.where(members, p, np.inf)
    order = np.argsort(ranked, axis=-1, kind="stable")
    family = members.sum(axis=-1, keepdims=True)
    multiplier = family - np.arange(p.shape[-1])  # m, m-1, ..., for members (sorted first)
    sorted_p = np.take_along_axis(ranked, order, axis=-1)
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(sorted_p * np.maximum(multiplier, 1),
                                                            axis=-1))
    adjusted = np.empty_like(adjusted_sorted)
    np.put_along_axis(adjusted, order, adjusted_sorted, axis=-1)
    return np.where(members, adjusted, np.nan)


def failures(log_ratios, threshold, alpha, confidence, members=None):
    """Fail mask over the last-but-one axis of (..., benchmarks, pairs) log ratios, and the pieces behind it."""
    p, median, low, high = sign_test(log_ratios, confidence)
    adjusted = holm(p, members)
    significant = np.nan_to_num(adjusted, nan=1.0) < alpha
    reaches = high >= np.log1p(threshold)
    return significant & reaches, p, adjusted, median, low, high


@dataclass
class Verdict:
    """One benchmark's gate result; ratios are IMPL time / baseline time (above 1: IMPL slower)."""
    benchmark: str
    pairs: int
    ratio: float
    ratio_low: float
    ratio_high: float
    p: float
    p_holm: float
    slower: bool  # significantly slower after Holm
    reaches_threshold: bool  # the interval reaches 1 + threshold
    failed: bool

    def as_json(self):
        return asdict(self)


def judge(named_log_ratios, threshold=0.05, alpha=0.01, confidence=0.99):
    """Verdicts for {benchmark: paired log ratios}, one Holm family; every benchmark needs the same pair count."""
    names = list(named_log_ratios)
    data = np.stack([np.asarray(named_log_ratios[n], dtype=float) for n in names])
    failed, p, adjusted, median, low, high = failures(data, threshold, alpha, confidence)
    reaches = high >= np.log1p(threshold)
    return [Verdict(name, data.shape[1], float(np.exp(median[k])), float(np.exp(low[k])), float(np.exp(high[k])),
                    float(p[k]), float(adjusted[k]), bool(adjusted[k] < alpha), bool(reaches[k]), bool(failed[k]))
            for k, name in enumerate(names)]


def smallest_p(pairs):
    """The smallest p-value a sign test on ``pairs`` can reach: every pair slower."""
    return 0.5 ** pairs
