"""The regression gate's false-alarm rate and power, measured on real runs rather than simulated.

    python -m optgold.bench.gate_check [--impl torch.optim:Adam] [--impl-arg foreach=true] [--reference adam]
                                     [--workload transformer ...] [--runs 10] [--budget 120] [--threshold 0.02]
                                     [--threads 1] [--slowdown 0.02 --slowdown 0.05] [--time-limit SECONDS]

Runs the whole sequential gate (suite/bench/gaterun.py) ``--runs`` times per scenario:

* A/A: IMPL against itself. It must exit 0 or 3; an exit 1 is a false alarm.
* IMPL made 2% and 5% slower by real work (suite/bench/slowed.py) against IMPL; an
  exit 1 is a detection, an exit 0 a miss.

Scenarios take turns (A/A, 2%, 5%, A/A, ...), so that drift in the machine falls on
all of them. Each rate comes with its 95% Clopper-Pearson interval and each median
time to a verdict with its distribution-free 95% interval (order statistics): a few
runs cannot show a 1% false-alarm rate, and the interval says what they do show.
``--time-limit`` stops starting new rounds of scenarios once that many seconds have
passed, so a bounded measurement still ends with whole rounds. The simulated rates
that ``optgold bench`` prints come from resampling one run's noise; these catch what
resampling cannot, such as a systematic difference between two identical sides.
"""
import argparse
import os
import time

import numpy as np
import torch
from scipy.stats import binom, binomtest

from optgold.bench import gaterun
from optgold.bench.paired import Side
from optgold.bench.shapes import DEFAULT_WORKLOADS, WORKLOADS
from optgold.bench.slowed import optimizer as slowed_optimizer
from optgold.bench.workload import hyperparameters
from optgold.commands.arguments import parse_impl_arg
from optgold.loading import load_impl

EXIT = {"not slower": 0, "slower": 1, "inconclusive": 3}


def scenario_sides(spec, impl_args, slowdown):
    baseline = Side("baseline", spec, load_impl(spec), impl_args)
    if slowdown == 0.0:
        return [Side("same", spec, load_impl(spec), impl_args), baseline]
    slowed_args = {"inner": spec, "slowdown": slowdown, **impl_args}
    return [Side(f"slowed {slowdown:.0%}", "optgold.bench.slowed:optimizer", slowed_optimizer, slowed_args), baseline]


def proportion(k, n):
    """'k/n = p% (95% CI low-high)', the interval Clopper-Pearson's."""
    interval = binomtest(k, n).proportion_ci(0.95, method="exact")
    return f"{k}/{n} = {k / n:.0%} (95% CI {interval.low:.0%}-{interval.high:.0%})"


def median_interval(values, confidence=0.95):
    """(median, low, high): the distribution-free interval of the median from order statistics (nan where too few)."""
    x = np.sort(np.asarray(values, float))
    n = len(x)
    tail = (1 - confidence) / 2
    low, high = int(binom.ppf(tail, n, 0.5)) - 1, int(binom.isf(tail, n, 0.5))
    return (float(np.median(x)), float(x[low]) if low >= 0 else np.nan, float(x[high]) if high < n else np.nan)


def summary(name, slowdown, exits, seconds):
    n = len(exits)
    median, low, high = median_interval(seconds)
    time_text = f"median time to verdict {median:.0f} s (95% CI {low:.0f}-{high:.0f} s)"
    if slowdown == 0.0:
        return (f"  {name:22} false alarms (exit 1) {proportion(exits.count(1), n)}; exit 0 "
                f"{proportion(exits.count(0), n)}; exit 3 {exits.count(3)}; {time_text}")
    return (f"  {name:22} detected (exit 1) {proportion(exits.count(1), n)}; missed (exit 0) "
            f"{proportion(exits.count(0), n)}; exit 3 {exits.count(3)}; {time_text}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="torch.optim:Adam")
    parser.add_argument("--impl-arg", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--reference", default="adam")
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--pairs", type=int, default=gaterun.Settings.pairs, help="pairs at the first look")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--budget", type=float, default=gaterun.Settings.budget)
    parser.add_argument("--threshold", type=float, default=gaterun.Settings.threshold)
    parser.add_argument("--alpha", type=float, default=gaterun.Settings.alpha)
    parser.add_argument("--slowdown", action="append", type=float, metavar="S",
                        help="a slowed scenario (repeatable; default 0.02 and 0.05)")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS", help="start no round after this long")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.budget <= 0 or args.threshold <= 0 or not 0 < args.alpha < 1:
        parser.error("--runs must be at least 1, --budget and --threshold above 0, --alpha between 0 and 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    impl_args = dict(parse_impl_arg(a) for a in args.impl_arg)
    workloads = args.workload or list(DEFAULT_WORKLOADS)
    scenarios = [("A/A", 0.0)] + [(f"{s:.0%} slower", s) for s in (args.slowdown or (0.02, 0.05))]
    settings = gaterun.Settings(args.reference, hyperparameters(args.reference, {}), pairs=args.pairs,
                                threshold=args.threshold, alpha=args.alpha, budget=args.budget)
    exits = {name: [] for name, _ in scenarios}
    seconds = {name: [] for name, _ in scenarios}
    started = time.perf_counter()
    print(f"{args.impl} {impl_args} on {', '.join(workloads)}; threshold {args.threshold:.0%}, alpha {args.alpha}, "
          f"budget {args.budget:g} s, first look {args.pairs} pairs; up to {args.runs} gate runs per scenario; "
          f"torch threads={torch.get_num_threads()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    for run in range(args.runs):
        if args.time_limit and run and time.perf_counter() - started > args.time_limit:
            print(f"time limit: stopping after {run} rounds", flush=True)
            break
        for name, slowdown in scenarios:
            outcome = gaterun.run(workloads, scenario_sides(args.impl, impl_args, slowdown), settings)
            exits[name].append(EXIT[outcome.verdict])
            seconds[name].append(outcome.seconds)
            rows = ", ".join(f"{v.benchmark} {v.verdict} {v.ratio:.3f} [{v.ratio_low:.3f}, {v.ratio_high:.3f}] "
                             f"{v.pairs}p" for v in outcome.verdicts)
            print(f"  run {run + 1} {name}: exit {exits[name][-1]} in {outcome.seconds:.0f} s; {rows}; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"gate on real runs ({time.perf_counter() - started:.0f} s, load average now "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}):")
    for name, slowdown in scenarios:
        print(summary(name, slowdown, exits[name], seconds[name]))


if __name__ == "__main__":
    main()
