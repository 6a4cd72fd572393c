"""The gate's own error rates, estimated from the noise of the run it judged.

Each workload's paired log ratios, minus their median, are that comparison's noise
with the effect removed. A replication runs the whole sequential gate
(suite/bench/sequential.py, the same loop as the real run) on pairs drawn from that
noise with replacement, a known slowdown log(1 + s) added to every workload, each
pair priced at the seconds per pair the real run paid on that workload, within the
same budget. s = 0 is an A/A run (an exit 1 is a false alarm, an exit 3 is allowed);
s > 0 is an IMPL made slower on purpose (an exit 1 is a detection, an exit 0 a miss).

This assumes pairs are independent and that A/A noise looks like this run's noise;
systematic differences between two identical sides (memory placement, order
effects) are not in it. ``python -m optgold.bench.gate_check`` measures those with real
A/A and slowed runs.
"""
from dataclasses import asdict, dataclass

import numpy as np

from optgold.bench import gate, sequential

CHUNK = 500  # replications simulated at once: bounds the memory of the drawn pairs


@dataclass
class Rate:
    slowdown: float
    exit_1: float  # share of replications ending "slower"
    exit_0: float  # ending "not slower"
    exit_3: float  # ending "inconclusive"
    median_seconds: float  # simulated sampling time to the run's verdict
    replications: int

    @property
    def standard_error(self):
        """Of exit_1; at least that of one event in ``replications`` (a rate measured as 0 is not 0)."""
        return float(np.sqrt(max(self.exit_1 * (1 - self.exit_1), 1.0 / self.replications) / self.replications))

    def as_json(self):
        return {**asdict(self), "standard_error": self.standard_error}


def _sampler(residuals, shift, threshold, seconds_per_pair, most_pairs, replications, rng):
    """sequential.run's ``sample``: prefix counts over pairs drawn once, up to ``most_pairs`` per workload."""
    draws = np.stack([rng.choice(r, size=(replications, most_pairs)) for r in residuals], axis=1) + np.log1p(shift)
    zero = np.zeros(draws.shape[:2] + (1,), np.int32)
    below = np.concatenate([zero, np.cumsum(draws <= 0, axis=-1, dtype=np.int32)], axis=-1)
    above = np.concatenate([zero, np.cumsum(draws >= np.log1p(threshold), axis=-1, dtype=np.int32)], axis=-1)
    have = np.zeros(draws.shape[:2], int)
    rows = np.arange(replications)[:, None]
    columns = np.arange(len(residuals))[None, :]

    def sample(add, is_open):
        nonlocal have
        upto = np.minimum(have + np.where(is_open, add[:, None], 0), most_pairs)
        added = [np.take_along_axis(c, upto[..., None], -1)[..., 0] - c[rows, columns, have] for c in (below, above)]
        seconds = (upto - have) * seconds_per_pair[None, :]
        have = upto
        return added[0], added[1], seconds

    return sample


def gate_rates(log_ratio_sets, seconds_per_pair, slowdowns=(0.0, 0.02, 0.05), replications=2000, threshold=0.03,
               alpha=0.01, budget=120.0, first=20, seed=0):
    """One Rate per slowdown, for the sequential gate on workloads with this noise and these prices."""
    residuals = [np.asarray(r, float) - np.median(r) for r in log_ratio_sets]
    price = np.asarray(seconds_per_pair, float)
    levels = gate.Levels.split(alpha, len(residuals))
    looks = sequential.schedule(first)
    # no replication can take more pairs than the cheapest workload alone could buy after the first look
    most = int(min(looks[-1], max(first, first + budget / max(price.min(), 1e-12))))
    rng = np.random.default_rng(seed)
    rates = []
    for slowdown in slowdowns:
        verdicts, seconds = [], []
        for start in range(0, replications, CHUNK):
            size = min(CHUNK, replications - start)
            sample = _sampler(residuals, slowdown, threshold, price, most, size, rng)
            outcome = sequential.run(sample, size, len(residuals), first, levels, budget)
            verdicts.append(outcome.verdicts)
            seconds.append(outcome.seconds)
        verdicts, seconds = np.concatenate(verdicts), np.concatenate(seconds)
        share = {code: float((verdicts == code).mean()) for code in gate.NAMES}
        rates.append(Rate(slowdown, share[gate.SLOWER], share[gate.NOT_SLOWER], share[gate.INCONCLUSIVE],
                          float(np.median(seconds)), replications))
    return rates
