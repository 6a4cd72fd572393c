"""optgold history: each stored benchmark over commits, its change points, and whether the head regressed.

Exit codes: 0 read and reported; 1 ``--fail-on-regression`` and a series regressed at
its head; 2 no storage, nothing stored, or a usage error.
"""
from pathlib import Path

from optgold.commands import EXIT_FAILED, EXIT_PASSED, UsageError
from optgold.commands.arguments import require_pytest_benchmark

NAME = "history"


def add_parser(subparsers):
    p = subparsers.add_parser(NAME, help="benchmark history: change points per series, plots, head regressions")
    p.add_argument("--storage", metavar="DIR", default=".benchmarks",
                   help="pytest-benchmark storage written by `optgold bench --save` (default .benchmarks)")
    p.add_argument("--plot", metavar="DIR", help="write one PNG per series and DIR/index.html")
    p.add_argument("--threshold", type=float, default=0.05,
                   help="a change slower than this is a regression (default 0.05 = 5%%)")
    p.add_argument("--min-size", type=int, default=2, metavar="N",
                   help="fewest runs in a segment, so one noisy run is not a change (default 2)")
    p.add_argument("--benchmark", metavar="TEXT", help="only series whose name contains TEXT")
    p.add_argument("--fail-on-regression", action="store_true", help="exit 1 if a series regressed at its head")
    return p


def run(args, console):
    from rich.markup import escape
    from rich.progress import Progress
    from rich.table import Table

    from optgold.bench import changepoints, plots, store
    from optgold.bench.table import duration

    if not console.is_terminal:  # a log or a pipe: let the table be as wide as it needs
        console.width = max(console.width, 180)
    require_pytest_benchmark(NAME)
    if args.threshold <= 0 or args.min_size < 1:
        raise UsageError("--threshold must be above 0 and --min-size at least 1")
    try:
        all_series = store.load_series(args.storage)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    series_list = [s for s in all_series if not args.benchmark or args.benchmark in s.benchmark]
    if not series_list:
        raise UsageError(f"no stored benchmarks in {args.storage!r}" +
                         (f" matching {args.benchmark!r}" if args.benchmark else ""))
    if args.plot:
        Path(args.plot).mkdir(parents=True, exist_ok=True)

    rows = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("change points and plots", total=len(series_list))
        for series in series_list:
            floor = changepoints.median_sampling_error(series.points)
            changes = changepoints.find(series.medians, min_size=args.min_size, noise_floor=floor)
            regression = changepoints.head_regression(changes, args.threshold)
            image = plots.image_name(series)
            if args.plot:
                plots.series_png(series, changes, Path(args.plot) / image, args.threshold)
            rows.append((series, changes, regression, image))
            progress.advance(task)

    t = Table("benchmark", "machine", "runs", "latest", "change points (commit: step)", "head",
              title=f"optgold history ({args.storage})", title_justify="left",
              caption="change points: PELT on log median step time; head: the newest segment against the one before",
              caption_justify="left")
    for series, changes, regression, _ in rows:
        moves = "; ".join(f"{series.points[c.index].commit[:7]}: {c.ratio - 1:+.1%}" for c in changes) or "none"
        head = f"[bold red]regressed {regression.ratio - 1:+.1%}[/]" if regression else "[green]ok[/]"
        t.add_row(escape(series.benchmark), escape(series.machine), str(len(series.points)),
                  duration(series.points[-1].median), moves, head)
    console.print(t)
    if args.plot:
        page = plots.write_page(args.plot, rows, args.threshold)
        console.print(f"wrote {len(rows)} PNG and {page}", highlight=False)
    regressed = [series.benchmark for series, _, regression, _ in rows if regression]
    if regressed:
        console.print(f"[bold red]regression at head[/]: {escape(', '.join(regressed))}")
    return EXIT_FAILED if regressed and args.fail_on_regression else EXIT_PASSED
