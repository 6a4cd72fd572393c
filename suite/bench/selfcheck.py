"""The gate's own false-alarm rate and power, estimated from the noise of the run it judged.

Each benchmark's paired log ratios, minus their median, are that comparison's noise
with the effect removed. A replication draws as many pairs again from it (with
replacement), adds a known slowdown log(1 + s) to every benchmark, and runs the whole
gate: sign tests, Holm, the threshold, and for failures one confirming rerun drawn
independently. s = 0 is an A/A run (any exit 1 is a false alarm); s = 5% and 10% are
IMPLs made slower on purpose (an exit 1 is a detection).

This assumes pairs are independent and that A/A noise looks like this run's noise;
systematic differences between two identical sides (memory placement, order
effects) are not in it. ``python -m optgold.bench.gate_check`` measures those with real
A/A and slowed runs.
"""
from dataclasses import asdict, dataclass

import numpy as np

from optgold.bench.gate import failures


@dataclass
class Rate:
    slowdown: float
    exit_1: float  # share of replications where the gate exits 1 (after confirmation)
    first_run_fails: float  # share where the first run alone would have failed
    replications: int

    @property
    def standard_error(self):
        return float(np.sqrt(max(self.exit_1 * (1 - self.exit_1), 1.0 / self.replications) / self.replications))

    def as_json(self):
        return {**asdict(self), "standard_error": self.standard_error}


def _draw(residuals, pairs, replications, shift, rng):
    """(replications, benchmarks, pairs) log ratios resampled from each benchmark's residuals."""
    columns = [rng.choice(r, size=(replications, pairs), replace=True) for r in residuals]
    return np.stack(columns, axis=1) + np.log1p(shift)


def gate_rates(log_ratio_sets, slowdowns=(0.0, 0.05, 0.10), replications=2000, threshold=0.05, alpha=0.01,
               confidence=0.99, confirm=True, confirm_alpha=0.05, seed=0):
    """One Rate per slowdown, for the gate applied to benchmarks with this noise."""
    residuals = [np.asarray(r, float) - np.median(r) for r in log_ratio_sets]
    pairs = min(len(r) for r in residuals)
    rng = np.random.default_rng(seed)
    rates = []
    for slowdown in slowdowns:
        first, *_ = failures(_draw(residuals, pairs, replications, slowdown, rng), threshold, alpha, confidence)
        final = first
        if confirm:  # rerun only the failing benchmarks, as a family of their own
            again, *_ = failures(_draw(residuals, pairs, replications, slowdown, rng), threshold, confirm_alpha,
                                 confidence, members=first)
            final = first & again
        rates.append(Rate(slowdown, float(final.any(axis=1).mean()), float(first.any(axis=1).mean()), replications))
    return rates
