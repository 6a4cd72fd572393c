"""How long a full CIFAR check takes, and how much of its tolerance torch's paths use.

    python -m optgold.devtools.cifar_time [--reference adam] [--dtype float32] [--paths forloop] [--repeats 1]

For each torch path (forloop, foreach, fused) and the dtype: the wall time of a full
``optgold check --problem cifar`` (every CIFAR case of the reference, all steps,
final accuracy included), after one warm-up of the data and the goldens, and the
worst |error| / tolerance over its cases. Also prints the torch thread count and
the machine's load average, since a loaded machine slows every figure.
"""
import argparse
import os
import statistics
import time

import torch

from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import load
from optgold.check import check
from optgold.torch_paths import PATH_ARGS as PATHS

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
              "rmsprop": torch.optim.RMSprop}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="adam", choices=sorted(OPTIMIZERS))
    parser.add_argument("--dtype", default="float32", choices=("float64", "float32"))
    parser.add_argument("--paths", default="forloop", help="comma-separated: forloop,foreach,fused")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cifar-dir", default=None)
    args = parser.parse_args(argv)
    cls = OPTIMIZERS[args.reference]
    data = cifar_data.load(args.cifar_dir)  # warm-up: data and goldens, as a second check in a process finds them
    cases = load.load_cases(args.reference, load.golden_dir(None, data.name), data)
    print(f"CIFAR check of torch.optim.{cls.__name__} against {args.reference}, {args.dtype}: {len(cases)} cases x "
          f"{cases[0].steps} steps, batch {cases[0].batch_size}; data: {data.description}")
    print(f"torch threads={torch.get_num_threads()}, cpus={os.cpu_count()}, "
          f"load average before={os.getloadavg()[0]:.1f}")
    print(f"{'path':8} {'median s':>9} {'min s':>7} {'tol used':>9}  result")
    for path in args.paths.split(","):
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            report = check(cls, args.reference, problem="cifar", dtype=args.dtype, impl_args=PATHS[path],
                           cifar_dir=args.cifar_dir)
            seconds.append(time.perf_counter() - start)
        used = max(c.tolerance_used or 0.0 for c in report.cases)
        verdict = "passed" if report.passed else "FAILED: " + "; ".join(c.message for c in report.cases if c.message)
        print(f"{path:8} {statistics.median(seconds):9.1f} {min(seconds):7.1f} {used:9.3f}  {verdict}")
    print(f"load average after={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
