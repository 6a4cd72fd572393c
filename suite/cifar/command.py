"""The --problem cifar branches of `optgold check` and `optgold generate`.

Bad data (a missing folder, a truncated or malformed batch file) is a usage error:
one line naming the file, exit code 2.
"""
import time
from contextlib import contextmanager

from optgold.golden import store
from optgold.golden.cifar.binary import CifarDataError
from optgold.commands import EXIT_FAILED, EXIT_PASSED, UsageError


@contextmanager
def _data_errors_are_usage_errors():
    try:
        yield
    except CifarDataError as error:
        raise UsageError(str(error)) from None


def check(args, factory, options, progress):
    """`optgold check IMPL --reference NAME --problem cifar`: replay form only (README: the CIFAR run)."""
    from optgold.check import check as check_cases

    with _data_errors_are_usage_errors():
        return check_cases(factory, args.reference, impl=args.impl, problem="cifar", options=options,
                           progress=progress)


def show(args, console, result):
    """The CIFAR report, and the loss curves with --loss-curve."""
    from optgold.cifar import report

    report.show(result, console)
    if args.loss_curve:
        from optgold.cifar.free_run import plot

        plot(result.cases, args.loss_curve, f"{args.impl} against {args.reference}, {args.dtype}: "
                                            f"{result.extra['data']}")
        console.print(f"wrote the loss curves to {args.loss_curve}", highlight=False)


def generate(args, console):
    """`optgold generate --problem cifar`: train the reference runs and write (or --check) their goldens."""
    from optgold.golden.cifar import data as cifar_data
    from optgold.golden.cifar import generate as cifar_generate
    from optgold.golden.cifar.load import golden_dir, rebuild_for

    with _data_errors_are_usage_errors():
        data = cifar_data.load(args.cifar_dir)
    directory = golden_dir(args.golden_dir, data.name)
    console.print(f"data: {data.description}", highlight=False)
    started = time.perf_counter()
    from optgold.progress import CheckProgress

    with CheckProgress(console, "training the CIFAR reference runs", unit=None) as shown:
        progress = shown.step
        if args.check:
            # a missing manifest is an error before minutes of work, naming the command that rebuilds it
            store.read_manifest(directory, rebuild_for(directory, data))
            problems, exact = cifar_generate.check(directory, data, progress=progress)
        else:
            manifest = cifar_generate.generate(directory, data, progress=progress)
    seconds = time.perf_counter() - started
    if args.check:
        for name, problem in sorted(problems.items()):
            console.print(f"[red]not reproduced[/] {name}: {problem}", highlight=False)
        if problems:
            return EXIT_FAILED
        how = "byte for byte" if exact else "within the float64 reproduction bound (this machine sums differently)"
        console.print(f"[green]reproduced[/]: every CIFAR golden in {directory} regenerates {how} ({seconds:.0f} s)",
                      highlight=False)
        return EXIT_PASSED
    size = sum((directory / name).stat().st_size for name in manifest["files"]) / 1e6
    console.print(f"wrote {sum(f['cases'] for f in manifest['files'].values())} CIFAR cases in "
                  f"{len(manifest['files'])} files ({size:.1f} MB) to {directory} in {seconds:.0f} s", highlight=False)
    return EXIT_PASSED
