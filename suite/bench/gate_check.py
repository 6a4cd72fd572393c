"""The regression gate's false-alarm rate and power, measured on real runs rather than simulated.

    python -m optgold.bench.gate_check [--impl torch.optim:Adam] [--impl-arg foreach=true] [--reference adam]
                                     [--workload transformer ...] [--pairs 100] [--runs 10]

Runs the whole gate, confirming rerun included, ``--runs`` times per scenario:

* A/A: IMPL against itself; an exit 1 is a false alarm;
* IMPL made 5% and 10% slower by real work (suite/bench/slowed.py) against IMPL; an exit 1 is a detection.

Scenarios take turns (A/A, 5%, 10%, A/A, ...), so that drift in the machine falls on
all of them. Each rate comes with its 95% Clopper-Pearson interval: a few runs
cannot show a 1% false-alarm rate, and the interval says what they do show. The
simulated rates that ``optgold bench`` prints come from resampling one run's noise;
these catch what resampling cannot, such as a systematic difference between two
identical sides.
"""
import argparse
import time

import numpy as np
import torch
from scipy.stats import binomtest

from optgold.bench import gaterun
from optgold.bench.paired import Side
from optgold.bench.shapes import DEFAULT_WORKLOADS, WORKLOADS
from optgold.bench.slowed import optimizer as slowed_optimizer
from optgold.bench.workload import hyperparameters
from optgold.commands.arguments import parse_impl_arg
from optgold.loading import load_impl

SCENARIOS = (("A/A (false alarm)", 0.0), ("5% slower (detection)", 0.05), ("10% slower (detection)", 0.10))


def scenario_sides(spec, impl_args, slowdown):
    baseline = Side("baseline", spec, load_impl(spec), impl_args)
    if slowdown == 0.0:
        return [Side("same", spec, load_impl(spec), impl_args), baseline]
    slowed_args = {"inner": spec, "slowdown": slowdown, **impl_args}
    return [Side(f"slowed {slowdown:.0%}", "optgold.bench.slowed:optimizer", slowed_optimizer, slowed_args), baseline]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="torch.optim:Adam")
    parser.add_argument("--impl-arg", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--reference", default="adam")
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    impl_args = dict(parse_impl_arg(a) for a in args.impl_arg)
    workloads = args.workload or list(DEFAULT_WORKLOADS)
    settings = gaterun.Settings(args.reference, hyperparameters(args.reference, {}), pairs=args.pairs)
    exits = {name: [] for name, _ in SCENARIOS}
    ratios = {name: [] for name, _ in SCENARIOS}
    started = time.perf_counter()
    print(f"{args.impl} {impl_args} on {', '.join(workloads)}, {args.pairs} pairs, {args.runs} gate runs per "
          f"scenario, torch threads={torch.get_num_threads()}")
    for run in range(args.runs):
        for name, slowdown in SCENARIOS:
            outcome = gaterun.run(workloads, scenario_sides(args.impl, impl_args, slowdown), settings)
            exits[name].append(bool(outcome.failed))
            ratios[name].append([v.ratio for v in outcome.first])
            rerun = ", ".join(f"{v.benchmark} {v.ratio:.3f}" for v in outcome.rerun)
            print(f"  run {run + 1} {name}: exit {1 if outcome.failed else 0}, first-run ratios "
                  f"{', '.join(f'{v.benchmark} {v.ratio:.3f}' for v in outcome.first)}"
                  f"{'; rerun ' + rerun if rerun else ''}", flush=True)
    print(f"gate on real runs ({time.perf_counter() - started:.0f} s):")
    for name, _ in SCENARIOS:
        k, n = sum(exits[name]), len(exits[name])
        interval = binomtest(k, n).proportion_ci(0.95)
        median_ratio = np.median(np.array(ratios[name]), axis=0)
        print(f"  {name:24} exit 1 in {k}/{n} = {k / n:.0%} (95% CI {interval.low:.0%}-{interval.high:.0%}); "
              f"median ratio per workload {', '.join(f'{w} {r:.3f}' for w, r in zip(workloads, median_ratio))}")


if __name__ == "__main__":
    main()
