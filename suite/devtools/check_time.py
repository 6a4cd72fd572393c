"""How long a full ``optgold check`` takes: all cases, both modes, one dtype.

    python -m optgold.devtools.check_time [--reference adam] [--dtype float32] [--repeats 5]
                                          [--world-size N --sharding zero|fsdp2|deepspeed1|...]

Prints the median and spread over repeats, in one process, after one warm-up run.
"""
import argparse
import statistics
import time

import torch

from optgold.golden.load import load_cases
from optgold.check import THREADS, check

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="adam", choices=sorted(OPTIMIZERS))
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32", "bfloat16", "float16"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--world-size", type=int, help="sharded on this many ranks (optgold.adapters.sharded)")
    parser.add_argument("--sharding", default="zero")
    args = parser.parse_args(argv)
    cls = OPTIMIZERS[args.reference]
    options = {"dtype": args.dtype, "world_size": args.world_size, "sharding": args.sharding}
    load_cases(args.reference)  # warm the loader and torch
    check(cls, args.reference, **options)
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        report = check(cls, args.reference, **options)
        seconds.append(time.perf_counter() - start)
        assert report.passed
    sharded = f", {args.sharding} on {args.world_size} ranks" if args.world_size else ""
    print(f"full check of torch.optim.{cls.__name__} against {args.reference}, {args.dtype}{sharded}, both modes, "
          f"{len(report.cases)} case-modes, each in the check's worker process with torch threads={THREADS}:")
    print(f"  median {statistics.median(seconds):.3f} s, min {min(seconds):.3f} s, max {max(seconds):.3f} s "
          f"over {args.repeats} runs")


if __name__ == "__main__":
    main()
