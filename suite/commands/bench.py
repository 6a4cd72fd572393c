"""optgold bench IMPL --reference NAME [--baseline IMPL2]: optimizer-step speed, roofline, and the regression gate.

With a baseline, each workload gets one of three verdicts (suite/bench/gate.py):
*not slower* (the ratio's interval ends below 1 + threshold), *slower* (significantly
slower, and within the threshold cannot be shown) or *inconclusive*. An inconclusive
workload gets more interleaved pairs, look after look, until it has a verdict or
``--budget`` seconds of sampling are spent (suite/bench/sequential.py).

Exit codes: 0 every workload is not slower (or there is no baseline to gate
against); 1 IMPL is slower on a workload; 3 inconclusive: no workload is slower, but
at least one could not be shown not slower within the budget (more --budget, a
quieter machine or --threads 1 help; never read as a pass); 2 a usage error, or IMPL
or the baseline raised while being built or stepped (one line naming it and what it
raised: an implementation that cannot run has no speed to judge, so this is never
read as a slowdown).
"""
import contextlib
import json
import time

from optgold import reference
from optgold.commands import EXIT_FAILED, EXIT_INCONCLUSIVE, EXIT_PASSED, UsageError
from optgold.commands.arguments import parse_impl_arg, require_pytest_benchmark

NAME = "bench"
THRESHOLD = 0.02  # the smallest this 2-core machine's noise supports within the default budget (see README)


def add_parser(subparsers):
    from optgold.bench.shapes import DEFAULT_WORKLOADS, DTYPES, WORKLOADS

    p = subparsers.add_parser(NAME, help="time optimizer steps; gate IMPL against a baseline")
    p.add_argument("impl", metavar="IMPL", help="package.module:Attr or path/to/file.py:Attr")
    p.add_argument("--reference", required=True, metavar="NAME",
                   help="reference whose hyperparameters (torch defaults) build the optimizer, see `optgold list`")
    p.add_argument("--impl-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra keyword for IMPL's construction, e.g. fused=true (repeatable)")
    p.add_argument("--baseline", metavar="IMPL2", help="gate IMPL against this implementation, run interleaved")
    p.add_argument("--baseline-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra keyword for the baseline's construction (repeatable)")
    p.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                   help="override a reference hyperparameter, e.g. momentum=0.9 (repeatable)")
    p.add_argument("--workload", action="append", choices=sorted(WORKLOADS), metavar="NAME",
                   help=f"parameter list to step (repeatable; default: {', '.join(DEFAULT_WORKLOADS)}; "
                        f"choices: {', '.join(sorted(WORKLOADS))})")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--threads", type=int, metavar="N", help="torch threads for the probe and the steps "
                   "(default: torch's own choice)")
    p.add_argument("--pairs", type=int, metavar="N", help="with a baseline, the IMPL/baseline pairs per workload at "
                   "the gate's first look (default 20); without, the timed rounds (default 100)")
    p.add_argument("--warmup", type=int, default=3, metavar="N", help="untimed pairs first (default 3)")
    p.add_argument("--threshold", type=float, default=THRESHOLD,
                   help=f"slowdown that matters: a pass shows IMPL within it (default {THRESHOLD}, "
                        f"{THRESHOLD * 100:g}%%)")
    p.add_argument("--alpha", type=float, default=0.01, help="each error rate over the whole run: an A/A run exits 1, "
                   "or a slowdown of the threshold exits 0, at most this often (default 0.01)")
    p.add_argument("--budget", type=float, default=120.0, metavar="SECONDS",
                   help="seconds of gate sampling before an unclear workload ends inconclusive, exit 3 (default 120)")
    p.add_argument("--self-check", type=int, default=2000, metavar="N",
                   help="replications for the gate's false-alarm and power estimate (0: skip; default 2000)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--save", action="store_true", help="append IMPL's results to the history storage")
    p.add_argument("--storage", metavar="DIR", default=".benchmarks",
                   help="history storage, pytest-benchmark's format (default .benchmarks)")
    p.add_argument("--name", metavar="LABEL", help="series name in the history (default: IMPL and its args)")
    return p


def label(spec, impl_args):
    """Attr(key=value, ...): short enough for a table cell."""
    name = spec.rpartition(":")[2]
    return f"{name}({', '.join(f'{k}={v}' for k, v in impl_args.items())})" if impl_args else name


def _validate(args):
    if args.pairs is None:
        args.pairs = 20 if args.baseline else 100
    checks = [(args.pairs >= 6, "--pairs must be at least 6"), (args.warmup >= 0, "--warmup must be >= 0"),
              (0 < args.alpha < 1, "--alpha must be between 0 and 1"),
              (args.threshold > 0, "--threshold must be above 0 (0.02 is 2%)"),
              (args.budget > 0, "--budget must be above 0 seconds"),
              (args.threads is None or args.threads >= 1, "--threads must be at least 1"),
              (args.self_check >= 0, "--self-check must be >= 0")]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    if args.baseline_arg and not args.baseline:
        raise UsageError("--baseline-arg needs --baseline")


def _sides(args):
    from optgold.bench.paired import Side
    from optgold.loading import load_impl

    impl_args = dict(parse_impl_arg(a) for a in args.impl_arg)
    sides = [Side(label(args.impl, impl_args), args.impl, load_impl(args.impl), impl_args)]
    if args.baseline:
        baseline_args = dict(parse_impl_arg(a, "--baseline-arg") for a in args.baseline_arg)
        baseline_label = label(args.baseline, baseline_args)
        if baseline_label == sides[0].label:
            baseline_label += " (baseline)"
        sides.append(Side(baseline_label, args.baseline, load_impl(args.baseline), baseline_args))
    return sides


def _hyperparameters(args):
    from optgold.bench.workload import hyperparameters

    try:
        return hyperparameters(args.reference, dict(parse_impl_arg(a, "--hp") for a in args.hp))
    except KeyError as error:
        raise UsageError(f"--hp: {error.args[0]}") from None


def _construct_once(sides, args, hp):
    """Build every side on a tiny workload first: a bad keyword fails in a second, not after the probe."""
    from optgold.bench.workload import ConstructionError, StepBench

    for side in sides:
        try:
            StepBench(side.factory, "tiny", hp[1], side.impl_args, args.dtype, args.device)
        except ConstructionError as error:
            raise UsageError(f"{side.spec}: {error}") from None


def _progress(console):
    """A rich progress display, and a tracker giving each workload its bar (gaterun.measure_all's protocol)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True)

    @contextlib.contextmanager
    def tracker(workload, pairs):
        task = progress.add_task(f"timing {workload}", total=pairs)
        yield lambda: progress.advance(task)
        progress.remove_task(task)

    return progress, tracker


def run(args, console):
    """In a guarded child process: an implementation that ends its process ends no benchmark with 0."""
    from optgold import isolation

    return isolation.guarded(lambda: _run(args, console), f"optgold bench {args.impl}")


def _run(args, console):
    import torch

    from optgold.bench import bandwidth, gaterun, machine, selfcheck, table
    from optgold.bench.shapes import DEFAULT_WORKLOADS

    started = time.perf_counter()
    if not console.is_terminal:  # a log or a pipe: let the table be as wide as it needs
        console.width = max(console.width, 180)
    reference.get(args.reference)  # fail fast on an unknown name
    _validate(args)
    require_pytest_benchmark(NAME)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {args.device}: CUDA is not available on this machine")
    hp = _hyperparameters(args)
    sides = _sides(args)
    workloads = list(dict.fromkeys(args.workload or DEFAULT_WORKLOADS))
    if args.threads:
        torch.set_num_threads(args.threads)
    _construct_once(sides, args, hp)

    settings = gaterun.Settings(args.reference, hp, args.dtype, args.device, args.pairs, args.warmup,
                                args.threshold, args.alpha, args.budget)
    progress, tracker = _progress(console)
    with progress:  # an ImplementationError (a UsageError) raised here ends the run with exit 2
        if args.baseline:
            outcome = gaterun.run(workloads, sides, settings, tracker)
            results = outcome.results
        else:
            outcome, results = None, gaterun.measure_all(workloads, sides, settings, tracker)

    # after the steps, in the same process and threads: an implementation that cannot step fails before
    # the probe's seconds are spent (its arrays are 4x the cache, gigabytes on a large last-level cache)
    with console.status("machine info and bandwidth probe"):
        info = machine.machine_info(args.device)
        probe = bandwidth.probe(machine.total_cache_bytes(info["optgold"]["caches"]), device=args.device)
    info["optgold"]["bandwidth"] = probe
    for line in table.header_lines(info["optgold"], probe, args.reference, hp[0], args.dtype):
        console.print(line, highlight=False)
    verdicts = {v.benchmark: v for v in outcome.verdicts} if outcome else {}
    title = f"optgold bench {sides[0].label} ({args.impl}), reference {args.reference}" + (
        f", baseline {sides[1].label} ({args.baseline})" if args.baseline else "")
    console.print(table.results_table(results, probe["best_gbps"], verdicts, title))

    rates = []
    if outcome:
        console.print(table.gate_line(outcome, args.threshold, args.alpha, args.budget), highlight=False)
        if args.self_check:
            rates = selfcheck.gate_rates([r.log_ratios for r in results], outcome.seconds_per_pair,
                                         replications=args.self_check, threshold=args.threshold, alpha=args.alpha,
                                         budget=args.budget, first=args.pairs)
            console.print(table.rate_line(rates), highlight=False)
    elapsed = time.perf_counter() - started
    code = EXIT_PASSED
    if outcome and outcome.slower:
        code = EXIT_FAILED
        console.print(f"[bold red]SLOWER[/]: IMPL is slower than the baseline on {', '.join(outcome.slower)} "
                      f"({elapsed:.0f} s)")
    elif outcome and outcome.verdict != "not slower":
        code = EXIT_INCONCLUSIVE
        unclear = [v.benchmark for v in outcome.verdicts if not v.not_slower]
        console.print(f"[bold yellow]INCONCLUSIVE[/]: not shown within +{args.threshold:.0%} on {', '.join(unclear)} "
                      f"in the {args.budget:g} s budget ({elapsed:.0f} s); exit {EXIT_INCONCLUSIVE}")
    else:
        console.print(f"[green]NOT SLOWER[/]: every workload shown within +{args.threshold:.0%} ({elapsed:.0f} s)"
                      if outcome else f"done ({elapsed:.0f} s)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(_as_json(args, info, outcome, results, rates, elapsed, hp, code), f, indent=2)
    if args.save:
        console.print(f"saved to {_save(args, info, results, verdicts, sides)}", highlight=False)
    return code


def _as_json(args, info, outcome, results, rates, elapsed, hp, code):
    from optgold.bench import gate
    from optgold.bench.machine import commit_info

    probe = info["optgold"]["bandwidth"]["best_gbps"]
    verdicts = {v.benchmark: v for v in outcome.verdicts} if outcome else {}
    return {
        "impl": args.impl, "impl_args": dict(parse_impl_arg(a) for a in args.impl_arg), "baseline": args.baseline,
        "baseline_args": dict(parse_impl_arg(a, "--baseline-arg") for a in args.baseline_arg),
        "reference": args.reference, "hyperparameters": hp[0], "dtype": args.dtype, "device": args.device,
        "machine": info["optgold"], "commit": commit_info(),
        "workloads": [{"workload": r.workload, "impl": r.impl.as_json(probe),
                       "baseline": r.baseline.as_json(probe) if r.baseline else None,
                       "verdict": verdicts[r.workload].as_json() if r.workload in verdicts else None}
                      for r in results],
        "gate": None if not outcome else {
            "verdict": outcome.verdict, "exit_code": code, "slower_workloads": outcome.slower,
            "threshold": args.threshold, "alpha": args.alpha, "budget_s": args.budget, "first_pairs": args.pairs,
            "looks": gate.LOOKS, "levels_per_look": {"slower": outcome.levels.slower,
                                                     "not_slower": outcome.levels.not_slower},
            "sampling_s": outcome.seconds, "self_check": [r.as_json() for r in rates]},
        "runtime_s": elapsed,
    }


def _save(args, info, results, verdicts, sides):
    from optgold.bench import store
    from optgold.bench.machine import commit_info

    probe = info["optgold"]["bandwidth"]["best_gbps"]
    series = args.name or sides[0].label
    options = {"mode": "pedantic, fresh state, interleaved with baseline" if args.baseline else "pedantic, fresh "
               "state", "rounds": args.pairs, "warmup_rounds": args.warmup, "iterations": 1,
               "timer": "perf_counter", "disable_gc": True}
    entries = []
    for r in results:
        extra = r.impl.as_json(probe)
        extra.pop("times_s")
        extra.update({"reference": args.reference, "dtype": args.dtype})
        if r.workload in verdicts:
            extra.update({"baseline": args.baseline, "vs_baseline": verdicts[r.workload].as_json()})
        entries.append(store.benchmark_entry(f"{series}[{r.workload}]", r.workload, r.impl.times, extra,
                                             {**options, "rounds": len(r.impl.times)}))
    return store.save_run(args.storage, info, commit_info(), entries)
