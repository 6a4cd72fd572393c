"""How long the whole grid takes: every kind, every reference, every torch implementation of it.

    python -m optgold.devtools.grid_time

Each kind names torch's implementations of its references (kind.torch_implementations:
optimizers on each path torch has here, forloop, foreach, fused; references with no
torch class, Lion and LAMB, are not timed) and the dtypes its grid is timed in; the
network kind's CIFAR run is timed by optgold.devtools.cifar_time instead. Prints each
check's time and the total.
"""
import time

from optgold import kinds
from optgold.check import check


def timed(run):
    start = time.perf_counter()
    report = run()
    return time.perf_counter() - start, report.passed, len(report.cases)


def main():
    rows, total = [], 0.0
    for kind in kinds.KINDS.values():
        for name in kind.references():
            for label, factory, impl_args in kind.torch_implementations(name):
                for dtype in kind.GRID_DTYPES:
                    rows.append((f"{name} {label} {dtype}".replace("  ", " "),
                                 *timed(lambda: check(factory, name, dtype=dtype, impl_args=impl_args))))
    for label, seconds, passed, cases in rows:
        total += seconds
        print(f"{label:48} {seconds:7.2f} s  {cases:3d} case-modes  {'passed' if passed else 'FAILED'}")
    print(f"whole grid: {total:.1f} s for {len(rows)} checks, {sum(r[3] for r in rows)} case-modes")


if __name__ == "__main__":
    main()
