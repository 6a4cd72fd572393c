"""The ``optgold`` command line.

Exit codes: 0 every case that ran passed and one did; 1 a case failed or none ran;
2 a usage error, an unknown reference, an IMPL that cannot be loaded, or goldens
that are missing or fail their hash.
"""
import argparse
import json
import sys

from rich.console import Console

import reference
from golden import store

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


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


def build_parser():
    parser = argparse.ArgumentParser(prog="optgold", description="Check optimizer implementations against "
                                     "golden trajectories from plain-Python reference formulas.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="check an implementation against a reference's goldens")
    check.add_argument("impl", metavar="IMPL", help="package.module:Attr or path/to/file.py:Attr")
    check.add_argument("--reference", required=True, metavar="NAME", help="reference name, see `optgold list`")
    check.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    check.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    check.add_argument("--mode", choices=("free", "replay", "both"), default="both")
    check.add_argument("--impl-arg", action="append", default=[], metavar="KEY=VALUE",
                       help="fixed extra keyword for every construction, e.g. fused=true (repeatable)")
    check.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    check.add_argument("--golden-dir", metavar="DIR", help="read goldens from DIR (default: $OPTGOLD_GOLDEN_DIR "
                       "or the packaged ones)")
    check.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                       help="per case and mode; a hung implementation fails the case (default 60)")

    generate = commands.add_parser("generate", help="write the goldens from the reference formulas")
    generate.add_argument("--check", action="store_true", help="regenerate and prove the stored files are reproduced")
    generate.add_argument("--golden-dir", metavar="DIR", help="where goldens live (default: the packaged ones)")

    commands.add_parser("list", help="list the references, their hyperparameters and case counts")
    return parser


def run_check(args, console):
    import torch

    from suite import report as report_module
    from suite.check import check
    from suite.loading import load_impl

    reference.get(args.reference)  # fail fast on an unknown name
    impl_args = dict(parse_impl_arg(a) for a in args.impl_arg)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {args.device}: CUDA is not available on this machine")
    factory = load_impl(args.impl)
    modes = ("free", "replay") if args.mode == "both" else (args.mode,)
    result = check(factory, args.reference, impl=args.impl, dtype=args.dtype, device=args.device, modes=modes,
                   impl_args=impl_args, golden_dir=args.golden_dir, timeout=args.timeout)
    report_module.show(result, console)
    if args.json:
        report_module.write_json(result, args.json)
    return EXIT_PASSED if result.passed else EXIT_FAILED


def run_generate(args, console):
    from golden import generate

    directory = store.golden_dir(args.golden_dir)
    with console.status("generating goldens") as status:
        def progress(ref_name, case_id):
            status.update(f"generating goldens: {ref_name}/{case_id}")

        if args.check:
            problems = generate.check(directory, progress)
            for name, problem in sorted(problems.items()):
                console.print(f"[red]not reproduced[/] {name}: {problem}")
            if problems:
                return EXIT_FAILED
            console.print(f"[green]reproduced[/]: every golden in {directory} regenerates byte for byte")
            return EXIT_PASSED
        manifest = generate.generate(directory, progress)
    console.print(f"wrote {sum(f['cases'] for f in manifest['files'].values())} cases in "
                  f"{len(manifest['files'])} files to {directory}")
    return EXIT_PASSED


def run_list(args, console):
    from rich.table import Table

    from golden.grid import GRID

    t = Table("reference", "hyperparameters (torch defaults)", "variants", "cases")
    for name, module in reference.OPTIMIZERS.items():
        hp = ", ".join(f"{k}={v}" for k, v in module.DEFAULTS.items())
        t.add_row(name, hp, ", ".join(v for v in module.VARIANTS if v != "torch"), str(len(GRID.get(name, []))))
    console.print(t)
    return EXIT_PASSED


def main(argv=None):
    from suite.loading import ImplLoadError

    args = build_parser().parse_args(argv)
    console = Console()
    commands = {"check": run_check, "generate": run_generate, "list": run_list}
    try:
        return commands[args.command](args, console)
    except (UsageError, ImplLoadError, reference.UnknownReference, store.GoldenError,
            OSError) as error:  # OSError: e.g. the --json path cannot be written
        print(f"optgold: error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
