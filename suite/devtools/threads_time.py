"""Which torch thread count a check is fastest with, idle and on a loaded machine: the default of
``optgold check --threads`` (optgold.check.THREADS) is chosen from these figures.

    python -m optgold.devtools.threads_time [--threads 1 2] [--repeats 3] [--cifar-steps 30]

For each thread count, with the machine idle and then with one busy process per core beside
it (a CI runner running other jobs): the median wall time of the full quadratic Adam check,
and of a CIFAR Adam check cut to --cifar-steps steps (0 leaves it out).
"""
import argparse
import multiprocessing
import os
import statistics
import time

import torch

from optgold.check import Options, check


def _spin(stop):
    while not stop.is_set():
        pass


class Load:
    """``n`` processes that each keep a core busy until the block ends."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.spinners = [context.Process(target=_spin, args=(self.stop,), daemon=True) for _ in range(self.n)]
        for spinner in self.spinners:
            spinner.start()
        time.sleep(1.0)  # let them start spinning
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for spinner in self.spinners:
            spinner.join(5)
            if spinner.is_alive():
                spinner.kill()


def median_seconds(run, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        report = run()
        seconds.append(time.perf_counter() - start)
        assert report.passed, [c.message for c in report.cases if c.status != "passed"]
    return statistics.median(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cifar-steps", type=int, default=30)
    args = parser.parse_args(argv)
    workloads = {"quadratic adam": lambda threads: check(torch.optim.Adam, "adam", options=Options(threads=threads))}
    if args.cifar_steps:
        workloads[f"cifar adam, {args.cifar_steps} steps"] = lambda threads: check(
            torch.optim.Adam, "adam", problem="cifar", options=Options(threads=threads, steps=args.cifar_steps,
                                                                         dtype="float32"))
    for run in workloads.values():
        run(1)  # warm the goldens, the data and torch
    cores = os.cpu_count()
    print(f"{cores} cores; median of {args.repeats} runs; loaded: {cores} busy processes beside the check")
    print(f"{'workload':32} {'threads':>7} {'idle s':>9} {'loaded s':>9}")
    for name, run in workloads.items():
        for threads in args.threads:
            idle = median_seconds(lambda: run(threads), args.repeats)
            with Load(cores):
                loaded = median_seconds(lambda: run(threads), args.repeats)
            print(f"{name:32} {threads:>7} {idle:>9.2f} {loaded:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
