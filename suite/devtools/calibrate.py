"""Calibration of the tolerance model: how much of it correct implementations use.

    python -m optgold.devtools.calibrate

For every reference, every torch path (forloop, foreach, fused) and both dtypes,
prints the worst |error| / tolerance over all cases, per mode. A correct path must
stay below 1; the margin shows how far C could shrink before a false alarm.
"""
from optgold import reference
from optgold.check import check
from optgold.tolerance import C
from optgold.torch_paths import available_paths, torch_class


def main():
    print(f"tolerance constant C = {C:g}; figures are worst |error| / tolerance (1.0 = failure)")
    print(f"{'reference':10} {'path':8} {'dtype':8} {'replay':>8} {'free':>8}")
    for ref_name, module in reference.OPTIMIZERS.items():
        cls = torch_class(module)
        if cls is None:
            continue
        for path, args in available_paths(cls).items():
            for dtype in ("float64", "float32"):
                report = check(cls, ref_name, dtype=dtype, impl_args=args)
                worst = {m: max(c.tolerance_used for c in report.cases if c.mode == m) for m in ("replay", "free")}
                flag = "" if report.passed else "  FAILED"
                print(f"{ref_name:10} {path:8} {dtype:8} {worst['replay']:8.3f} {worst['free']:8.3f}{flag}")


if __name__ == "__main__":
    main()
