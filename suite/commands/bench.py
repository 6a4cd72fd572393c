"""optgold bench IMPL --reference NAME [--baseline IMPL2]: optimizer-step speed, roofline, and the regression gate.

Exit codes: 0 no confirmed regression (or no baseline to gate against); 1 IMPL is
significantly slower than the baseline by the threshold or more, on a benchmark, in
the run and in its confirming rerun; 2 a usage error, or IMPL or the baseline raised
while being built or stepped (one line naming it and what it raised: an implementation
that cannot run has no speed to judge, so this is never read as a slowdown).
"""
import contextlib
import json
import time

from optgold import reference
from optgold.commands import EXIT_FAILED, EXIT_PASSED, UsageError
from optgold.commands.arguments import parse_impl_arg, require_pytest_benchmark

NAME = "bench"


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
    p.add_argument("--pairs", type=int, default=100, metavar="N", help="timed IMPL/baseline pairs per workload "
                   "(default 100)")
    p.add_argument("--warmup", type=int, default=3, metavar="N", help="untimed pairs first (default 3)")
    p.add_argument("--threshold", type=float, default=0.05, help="slowdown that matters (default 0.05 = 5%%)")
    p.add_argument("--alpha", type=float, default=0.01, help="family-wise false-alarm level (default 0.01)")
    p.add_argument("--confidence", type=float, default=0.99, help="of the ratio's interval (default 0.99)")
    p.add_argument("--confirm-alpha", type=float, default=0.05,
                   help="level the confirming rerun is judged at (default 0.05)")
    p.add_argument("--no-confirm", action="store_true", help="fail on the first run, without a confirming rerun")
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
    checks = [(args.pairs >= 6, "--pairs must be at least 6"), (args.warmup >= 0, "--warmup must be >= 0"),
              (0 < args.alpha < 1, "--alpha must be between 0 and 1"),
              (0 < args.confirm_alpha < 1, "--confirm-alpha must be between 0 and 1"),
              (0 < args.confidence < 1, "--confidence must be between 0 and 1"),
              (args.threshold > 0, "--threshold must be above 0 (0.05 is 5%)"),
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

    from optgold.bench import bandwidth, gate, gaterun, machine, selfcheck, table
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

    with console.status("machine info and bandwidth probe"):
        info = machine.machine_info(args.device)
        probe = bandwidth.probe(machine.total_cache_bytes(info["optgold"]["caches"]), device=args.device)
    info["optgold"]["bandwidth"] = probe
    for line in table.header_lines(info["optgold"], probe, args.reference, hp[0], args.dtype):
        console.print(line, highlight=False)

    settings = gaterun.Settings(args.reference, hp, args.dtype, args.device, args.pairs, args.warmup,
                                args.threshold, args.alpha, args.confidence, confirm=not args.no_confirm,
                                confirm_alpha=args.confirm_alpha)
    progress, tracker = _progress(console)
    with progress:  # an ImplementationError (a UsageError) raised here ends the run with exit 2
        if args.baseline:
            outcome = gaterun.run(workloads, sides, settings, tracker, announce=lambda names: console.print(
                f"[yellow]slower on {', '.join(names)}: rerunning to confirm[/]"))
        else:
            outcome = gaterun.GateRun(gaterun.measure_all(workloads, sides, settings, tracker), [], [])
    verdicts = {v.benchmark: v for v in outcome.first}
    title = f"optgold bench {sides[0].label} ({args.impl}), reference {args.reference}" + (
        f", baseline {sides[1].label} ({args.baseline})" if args.baseline else "")
    console.print(table.results_table(outcome.results, probe["best_gbps"], verdicts, args.confidence, title))

    rates = []
    if args.baseline:
        console.print(f"gate: paired sign test on log(IMPL/baseline) over {args.pairs} interleaved pairs, Holm over "
                      f"{len(outcome.first)} workloads at alpha {args.alpha}; a workload fails when IMPL is "
                      f"significantly slower and the {args.confidence:.0%} interval reaches +{args.threshold:.0%}"
                      + ("" if args.no_confirm else f", then again in a rerun judged at alpha {args.confirm_alpha}"),
                      highlight=False)
        for v in outcome.rerun:
            verdict = "[bold red]confirmed[/]" if v.failed else "[green]not confirmed[/]"
            console.print(f"  rerun {v.benchmark}: ratio {v.ratio:.3f} [{v.ratio_low:.3f}, {v.ratio_high:.3f}], "
                          f"Holm p {v.p_holm:.2g}: {verdict}")
        if args.self_check:
            rates = selfcheck.gate_rates([r.log_ratios for r in outcome.results], replications=args.self_check,
                                         threshold=args.threshold, alpha=args.alpha, confidence=args.confidence,
                                         confirm=not args.no_confirm, confirm_alpha=args.confirm_alpha)
            console.print(table.rate_line(rates), highlight=False)
        if gate.smallest_p(args.pairs) * len(outcome.first) >= args.alpha:
            console.print(f"[yellow]warning: {args.pairs} pairs can never reach alpha {args.alpha} over "
                          f"{len(outcome.first)} workloads; use more --pairs[/]")
    elapsed = time.perf_counter() - started
    if outcome.failed:
        console.print(f"[bold red]FAILED[/]: IMPL is slower than the baseline on {', '.join(outcome.failed)} "
                      f"({elapsed:.0f} s)")
    else:
        console.print(f"[green]PASSED[/]: no confirmed slowdown ({elapsed:.0f} s)" if args.baseline
                      else f"done ({elapsed:.0f} s)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(_as_json(args, info, outcome, rates, elapsed, hp), f, indent=2)
    if args.save:
        console.print(f"saved to {_save(args, info, outcome.results, verdicts, sides)}", highlight=False)
    return EXIT_FAILED if outcome.failed else EXIT_PASSED


def _as_json(args, info, outcome, rates, elapsed, hp):
    from optgold.bench.machine import commit_info

    probe = info["optgold"]["bandwidth"]["best_gbps"]
    verdicts, reruns = {v.benchmark: v for v in outcome.first}, {v.benchmark: v for v in outcome.rerun}
    return {
        "impl": args.impl, "impl_args": dict(parse_impl_arg(a) for a in args.impl_arg), "baseline": args.baseline,
        "baseline_args": dict(parse_impl_arg(a, "--baseline-arg") for a in args.baseline_arg),
        "reference": args.reference, "hyperparameters": hp[0], "dtype": args.dtype, "device": args.device,
        "machine": info["optgold"], "commit": commit_info(),
        "workloads": [{"workload": r.workload, "impl": r.impl.as_json(probe),
                       "baseline": r.baseline.as_json(probe) if r.baseline else None,
                       "verdict": verdicts[r.workload].as_json() if r.workload in verdicts else None,
                       "rerun_verdict": reruns[r.workload].as_json() if r.workload in reruns else None}
                      for r in outcome.results],
        "gate": None if not args.baseline else {
            "passed": not outcome.failed, "failed_workloads": outcome.failed, "confirm": not args.no_confirm,
            "confirm_alpha": args.confirm_alpha,
            "threshold": args.threshold, "alpha": args.alpha, "confidence": args.confidence, "pairs": args.pairs,
            "self_check": [r.as_json() for r in rates]},
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
        entries.append(store.benchmark_entry(f"{series}[{r.workload}]", r.workload, r.impl.times, extra, options))
    return store.save_run(args.storage, info, commit_info(), entries)
