"""One run of the regression gate: interleaved pairs in batches until every workload has a verdict or the budget is out.

suite/bench/sequential.py decides when to look and how many pairs each look adds;
this module measures them. A batch is a fresh measurement (suite/bench/paired.py):
both sides are built again, so where arrays happen to lie is drawn anew each batch
instead of fixed for the whole run. Workloads take turns batch by batch, so that
drift in the machine falls on all of them.

There is no confirming rerun any more. It used to make one run's false alarm rarer;
the looks now hold the false-alarm rate at alpha over the whole run, a rerun would
spend budget the looks could use, and demanding two significant results would
lower the power the gate is sized for.
"""
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from optgold.bench import gate, sequential
from optgold.bench.paired import joined, measure


@dataclass
class Settings:
    ref_name: str
    hp: tuple  # (every hyperparameter, those passed to the constructor)
    dtype: str = "float32"
    device: str = "cpu"
    pairs: int = 20  # the first look's pairs per workload (timed rounds without a baseline)
    warmup: int = 3
    threshold: float = 0.02  # optgold.commands.bench.THRESHOLD (a test keeps them equal)
    alpha: float = 0.01
    budget: float = 120.0  # seconds of sampling


@dataclass
class GateRun:
    workloads: list
    batches: dict  # workload -> measured batches (WorkloadResult), in order
    verdicts: list  # Verdict per workload
    seconds_by_workload: dict  # workload -> seconds its batches took, building included
    stopped: int = sequential.ALL_JUDGED
    levels: gate.Levels = field(default=None)

    @property
    def seconds(self):
        """Sampling time to the run's verdict."""
        return sum(self.seconds_by_workload.values())

    @property
    def seconds_per_pair(self):
        """What a pair cost on each workload: the self-check's prices."""
        return [self.seconds_by_workload[v.benchmark] / v.pairs for v in self.verdicts]

    @property
    def verdict(self):
        return gate.NAMES[int(gate.exit_verdict([v.code for v in self.verdicts]))]

    @property
    def slower(self):
        return [v.benchmark for v in self.verdicts if v.slower]

    @property
    def results(self):
        """One WorkloadResult per workload, its batches joined."""
        return [joined(self.batches[w]) for w in self.workloads]


def measure_all(workloads, sides, settings, tracker=None):
    """WorkloadResult per workload, ``settings.pairs`` rounds each (no gate: a run without a baseline)."""
    return [_measure(workload, sides, settings, settings.pairs, tracker) for workload in workloads]


def _measure(workload, sides, settings, pairs, tracker, peaks=True):
    """``tracker(workload, pairs)`` may return a context giving a per-pair callback."""
    with (tracker(workload, pairs) if tracker else nullcontext()) as on_round:
        return measure(workload, sides, settings.ref_name, settings.hp, settings.dtype, settings.device, pairs,
                       settings.warmup, on_round=on_round, peaks=peaks)


def run(workloads, sides, settings, tracker=None, batch=None, clock=time.perf_counter):
    """The gate over ``workloads``. ``batch(workload, pairs)`` returns something with ``log_ratios``
    (default: a real interleaved measurement of ``sides``); ``clock`` prices it."""
    batches = {w: [] for w in workloads}
    batch = batch or (lambda workload, pairs: _measure(workload, sides, settings, pairs, tracker,
                                                       peaks=not batches[workload]))
    levels = gate.Levels.split(settings.alpha, len(workloads))

    def sample(add, is_open):
        below, above, seconds = (np.zeros((1, len(workloads))) for _ in range(3))
        for k, workload in enumerate(workloads):
            if is_open[0, k]:
                start = clock()
                batches[workload].append(batch(workload, int(add[0])))
                seconds[0, k] = clock() - start
                below[0, k], above[0, k] = gate.counts(batches[workload][-1].log_ratios, settings.threshold)
        return below.astype(int), above.astype(int), seconds

    outcome = sequential.run(sample, 1, len(workloads), settings.pairs, levels, settings.budget)
    stopped = int(outcome.stopped[0])
    verdicts = [gate.judge(w, np.concatenate([b.log_ratios for b in batches[w]]), settings.threshold, levels,
                           int(outcome.looks[0, k]), sequential.WHY.get(stopped, "no look left"))
                for k, w in enumerate(workloads)]
    spent = {w: float(outcome.spent[0, k]) for k, w in enumerate(workloads)}
    return GateRun(list(workloads), batches, verdicts, spent, stopped, levels)
