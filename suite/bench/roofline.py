"""How close torch's for-loop, foreach and fused paths come to this machine's memory bandwidth, in one process.

    python -m optgold.bench.roofline [--pairs 30] [--threads N]

The bandwidth probe varies from process to process on a shared VM (on the 2-core EPYC
it gave 39 to 77 GB/s in consecutive runs of `optgold bench`), so fractions from
separate runs do not compare. Here one process probes before and after, and times the
three paths of Adam and of SGD with momentum interleaved on each workload, so every
figure shares one probe: the best of the two.
"""
import argparse
import time

import numpy as np
import torch

from optgold.bench import bandwidth, machine, timing, traffic
from optgold.bench.shapes import DEFAULT_WORKLOADS, param_count
from optgold.bench.workload import StepBench, hyperparameters
from optgold.torch_paths import PATH_ARGS as PATHS

OPTIMIZERS = {"adam": (torch.optim.Adam, {}), "sgd": (torch.optim.SGD, {"momentum": 0.9})}


def _probe():
    info = machine.machine_info("cpu")
    return bandwidth.probe(machine.total_cache_bytes(info["optgold"]["caches"]))["best_gbps"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30, help="timed rounds, every path once per round")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    before = _probe()
    rows = []
    for ref_name, (cls, overrides) in OPTIMIZERS.items():
        full_hp, passed_hp = hyperparameters(ref_name, overrides)
        per_param = traffic.bytes_per_param(ref_name, full_hp, "float32")
        for workload in DEFAULT_WORKLOADS:
            benches = []
            for impl_args in PATHS.values():
                benches.append(StepBench(cls, workload, passed_hp, impl_args, "float32", "cpu",
                                         share_memory_with=benches[0] if benches else None))
            times = timing.interleaved(benches, args.pairs, warmup=3)
            for path, row in zip(PATHS, times):
                rows.append((ref_name, workload, path, float(np.median(row)), per_param))
    after = _probe()
    best = max(before, after)
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, float32, {args.pairs} interleaved rounds; "
          f"bandwidth probe {before:.1f} GB/s before, {after:.1f} after: fractions are of {best:.1f} GB/s")
    print(f"{'optimizer':14} {'workload':12} {'path':8} {'median step':>12} {'GB/s':>6} {'% bw':>5}")
    for ref_name, workload, path, seconds, per_param in rows:
        gbps = traffic.achieved_gbps(per_param, param_count(workload), seconds)
        label = f"{ref_name} ({per_param} B/p)"
        print(f"{label:14} {workload:12} {path:8} {seconds * 1e3:9.2f} ms {gbps:6.1f} {gbps / best:5.0%}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
