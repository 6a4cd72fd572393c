"""Measure IMPL (and a baseline) on one workload: step times, throughput, state and peak memory.

Both sides step on the same values in the same memory (suite/bench/workload.py), in
the same process and thread count, interleaved (suite/bench/timing.py).
"""
from dataclasses import dataclass, field, replace

import numpy as np

from optgold.bench import memory, timing, traffic
from optgold.bench.workload import ConstructionError, StepBench, StepError


@dataclass
class Side:
    """An implementation as benchmarked: its IMPL spec, factory and construction keywords."""
    label: str
    spec: str
    factory: object = field(repr=False)
    impl_args: dict

    def describe(self):
        """The spec and its keywords, as an error message names the implementation."""
        keywords = ", ".join(f"{k}={v!r}" for k, v in self.impl_args.items())
        return f"{self.spec} ({keywords})" if keywords else self.spec


@dataclass
class SideResult:
    side: Side
    workload: str
    times: np.ndarray  # seconds per step, one per timed round
    params: int
    bytes_per_param: int  # compulsory traffic (suite/bench/traffic.py); None where no model
    state_bytes_per_param: float
    memory: dict  # resident_bytes, transient_bytes, peak_bytes

    @property
    def median(self):
        return float(np.median(self.times))

    @property
    def quartiles(self):
        q1, q3 = np.percentile(self.times, [25, 75])
        return float(q1), float(q3)

    @property
    def spread(self):
        """Interquartile range relative to the median."""
        q1, q3 = self.quartiles
        return (q3 - q1) / self.median

    @property
    def params_per_second(self):
        return self.params / self.median

    @property
    def gbps(self):
        if self.bytes_per_param is None:
            return None
        return traffic.achieved_gbps(self.bytes_per_param, self.params, self.median)

    def fraction_of_bandwidth(self, bandwidth_gbps):
        return None if self.gbps is None else traffic.fraction_of_bandwidth(self.gbps, bandwidth_gbps)

    def as_json(self, bandwidth_gbps):
        q1, q3 = self.quartiles
        return {"impl": self.side.spec, "label": self.side.label, "impl_args": self.side.impl_args,
                "workload": self.workload, "params": self.params, "rounds": len(self.times),
                "median_s": self.median, "q1_s": q1, "q3_s": q3, "params_per_s": self.params_per_second,
                "bytes_per_param": self.bytes_per_param, "gbps": self.gbps,
                "fraction_of_bandwidth": self.fraction_of_bandwidth(bandwidth_gbps),
                "state_bytes_per_param": self.state_bytes_per_param, **self.memory,
                "times_s": self.times.tolist()}


@dataclass
class WorkloadResult:
    workload: str
    impl: SideResult
    baseline: SideResult = None

    @property
    def log_ratios(self):
        """Per pair log(IMPL time / baseline time)."""
        return np.log(self.impl.times / self.baseline.times)


def joined(results):
    """One WorkloadResult from batches of the same workload and sides: times concatenated, memory of the first."""
    first = results[0]
    sides = [first.impl] + ([first.baseline] if first.baseline else [])
    merged = [replace(side, times=np.concatenate([[r.impl, r.baseline][k].times for r in results]))
              for k, side in enumerate(sides)]
    return WorkloadResult(first.workload, *merged)


def _role(sides, side):
    return "IMPL" if side is sides[0] else "baseline"


def measure(workload, sides, ref_name, hp, dtype, device, pairs, warmup=2, seed=0, on_round=None, peaks=True):
    """Time every side on ``workload``, interleaved; returns a WorkloadResult (IMPL first in ``sides``).

    ``hp`` is (every hyperparameter, the non-default ones): the first feeds the byte
    model, the second the constructor, with each side's impl_args, as ``optgold check``
    builds. ``peaks=False`` skips the profiled step that measures peak memory (a
    later batch of a workload already measured).
    """
    full_hp, passed_hp = hp
    benches = []
    for side in sides:  # the second side shares the first's memory (see StepBench)
        try:
            benches.append(StepBench(side.factory, workload, passed_hp, side.impl_args, dtype, device, seed,
                                     share_memory_with=benches[0] if benches else None))
        except ConstructionError as error:
            raise ConstructionError(f"{_role(sides, side)} {side.describe()} on workload {workload!r}: "
                                    f"{error}") from None
    try:
        peaks = [memory.step_peak(b) if peaks else {} for b in benches]
        times = timing.interleaved(benches, pairs, warmup, on_round)
    except StepError as error:
        side = sides[next(k for k, b in enumerate(benches) if b is error.bench)]
        raise StepError(f"{_role(sides, side)} {side.describe()}, stepping on workload {workload!r}, {error}",
                        error.bench) from error.__cause__
    per_param = traffic.bytes_per_param(ref_name, full_hp, dtype)
    results = [SideResult(side, workload, times[k], bench.params_count, per_param,
                          bench.state_bytes() / bench.params_count, peaks[k])
               for k, (side, bench) in enumerate(zip(sides, benches))]
    return WorkloadResult(workload, *results)
