"""How long the whole grid takes: every reference, every torch path, float64 and float32.

    python -m optgold.devtools.grid_time

Optimizers run both modes on each path torch has on this machine (forloop, foreach,
fused); references with no torch class (Lion, LAMB) are not timed. Schedulers and
averaging run against torch's classes. Prints each reference's time and the total.
"""
import time

from optgold import reference
from optgold.reference import schedulers
from optgold.averaging_check import CASES as AVERAGING, check_averaging
from optgold.check import check
from optgold.loading import load_impl
from optgold.schedule_check import check_scheduler
from optgold.torch_paths import available_paths, torch_class

DTYPES = ("float64", "float32")


def timed(run):
    start = time.perf_counter()
    report = run()
    return time.perf_counter() - start, report.passed, len(report.cases)


def main():
    rows, total = [], 0.0
    for name, module in reference.OPTIMIZERS.items():
        cls = torch_class(module)
        if cls is None:
            continue
        for path, kwargs in available_paths(cls).items():
            for dtype in DTYPES:
                rows.append((f"{name} {path} {dtype}", *timed(lambda: check(cls, name, dtype=dtype, impl_args=kwargs))))
    for name, module in schedulers.SCHEDULERS.items():
        cls = load_impl(module.TORCH)
        rows.append((f"{name}", *timed(lambda: check_scheduler(cls, name))))
    averaged_model = load_impl("torch.optim.swa_utils:AveragedModel")
    for name in AVERAGING:
        for dtype in DTYPES:
            rows.append((f"{name} {dtype}", *timed(lambda: check_averaging(averaged_model, name, dtype=dtype))))
    for label, seconds, passed, cases in rows:
        total += seconds
        print(f"{label:48} {seconds:7.2f} s  {cases:3d} case-modes  {'passed' if passed else 'FAILED'}")
    print(f"whole grid: {total:.1f} s for {len(rows)} checks, {sum(r[3] for r in rows)} case-modes")


if __name__ == "__main__":
    main()
