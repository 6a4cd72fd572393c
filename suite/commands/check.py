"""optgold check IMPL --reference NAME: an implementation against a reference's goldens."""
import json

from optgold import reference
from optgold.commands import EXIT_FAILED, EXIT_PASSED, UsageError

NAME = "check"


def add_parser(subparsers):
    p = subparsers.add_parser(NAME, help="check an implementation against a reference's goldens")
    p.add_argument("impl", metavar="IMPL", help="package.module:Attr or path/to/file.py:Attr")
    p.add_argument("--reference", required=True, metavar="NAME", help="reference name, see `optgold list`")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--mode", choices=("free", "replay", "both"), default="both")
    p.add_argument("--impl-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed extra keyword for every construction, e.g. fused=true (repeatable)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--golden-dir", metavar="DIR", help="read goldens from DIR (default: $OPTGOLD_GOLDEN_DIR "
                   "or the packaged ones)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="per case and mode; a hung implementation fails the case (default 60; with --problem "
                   "cifar, per step)")
    add_problem_arguments(p)
    add_loss_curve_argument(p)
    return p


def add_problem_arguments(p):
    """--problem and --cifar-dir, shared with `optgold generate`."""
    p.add_argument("--problem", choices=("quadratics", "cifar"), default="quadratics",
                   help="quadratics: the quadratic and Rosenbrock cases (default); cifar: the small CIFAR network "
                   "run, in replay form (its goldens live in DIR/cifar, or DIR/cifar10 for real CIFAR-10)")
    p.add_argument("--cifar-dir", metavar="DIR", help="CIFAR-10 binary folder (data_batch_*.bin, test_batch.bin) "
                   "for --problem cifar (default: $OPTGOLD_CIFAR_DIR, else a generated synthetic set)")


def add_loss_curve_argument(p):
    p.add_argument("--loss-curve", metavar="PNG", help="with --problem cifar: also train IMPL on its own "
                   "gradients, and draw its loss curve beside the golden's (shown, not judged)")


def parse_impl_arg(text):
    """KEY=VALUE; the value is read as JSON (true, 3, 1e-3, null), else kept as a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise UsageError(f"--impl-arg {text!r} must look like KEY=VALUE, e.g. fused=true")
    python_words = {"True": True, "False": False, "None": None}
    if value in python_words:
        return key, python_words[value]
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def run(args, console):
    import torch

    from optgold import report
    from optgold.check import check
    from optgold.loading import load_impl

    from optgold.reference import schedulers
    from optgold.averaging_check import CASES as AVERAGING, check_averaging
    from optgold.schedule_check import check_scheduler

    if args.reference not in {**reference.OPTIMIZERS, **schedulers.SCHEDULERS, **AVERAGING}:
        raise UsageError(f"unknown reference {args.reference!r}; optimizers: {', '.join(sorted(reference.OPTIMIZERS))}"
                         f"; schedulers: {', '.join(sorted(schedulers.SCHEDULERS))}; averaging: "
                         f"{', '.join(sorted(AVERAGING))} (see `optgold list`)")
    impl_args = dict(parse_impl_arg(a) for a in args.impl_arg)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {args.device}: CUDA is not available on this machine")
    factory = load_impl(args.impl)
    if args.loss_curve and args.problem != "cifar":
        raise UsageError("--loss-curve needs --problem cifar")
    if args.problem == "cifar":
        from optgold.cifar import command

        return command.check(args, console, factory, impl_args)
    modes = ("free", "replay") if args.mode == "both" else (args.mode,)
    if args.reference in schedulers.SCHEDULERS:
        result = check_scheduler(factory, args.reference, impl=args.impl, dtype=args.dtype, impl_args=impl_args,
                                 golden_dir=args.golden_dir, timeout=args.timeout, device=args.device)
    elif args.reference in AVERAGING:
        result = check_averaging(factory, args.reference, impl=args.impl, dtype=args.dtype, impl_args=impl_args,
                                 golden_dir=args.golden_dir)
    else:
        result = check(factory, args.reference, impl=args.impl, dtype=args.dtype, device=args.device, modes=modes,
                       impl_args=impl_args, golden_dir=args.golden_dir, timeout=args.timeout)
    report.show(result, console)
    if args.json:
        report.write_json(result, args.json)
    return EXIT_PASSED if result.passed else EXIT_FAILED
