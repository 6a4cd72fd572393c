"""Present a benchmark run: machine and probe lines, one table row per implementation and workload, the gate."""
from rich.markup import escape
from rich.table import Table

from optgold.bench import traffic
from optgold.bench.gate import LOOKS
from optgold.bench.machine import contended
from optgold.bench.shapes import WORKLOADS


def si(value, unit=""):
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".rstrip()


def duration(seconds):
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def mib(nbytes):
    return "n/a" if nbytes is None else f"{nbytes / (1 << 20):.3g}"


def header_lines(machine, probe, ref_name, full_hp, dtype):
    caches = ", ".join(f"{level} {mib(c['total_bytes'])} MiB" for level, c in machine["caches"].items())
    if traffic.has_model(ref_name):
        streams = traffic.streams(ref_name, full_hp)
        model = (f"traffic model ({ref_name}, {dtype}): read {', '.join(streams.read)}; write "
                 f"{', '.join(streams.written)} = {traffic.bytes_per_param(ref_name, full_hp, dtype)} B/param")
    else:
        model = f"traffic model: none for {ref_name}, so no GB/s or % bw"
    lines = [
        f"machine: {machine['model']}, {machine['threads']} torch threads, torch {machine['torch']}, "
        f"{machine['device']}; caches {caches or 'unknown'}; load average {machine.get('load_average') or 0:.1f} "
        f"on {machine.get('cpus')} CPUs",
        f"bandwidth probe (STREAM, {mib(probe['array_bytes'])} MiB arrays, best of {probe['repeats']}): "
        f"copy {probe['copy_gbps']:.1f} GB/s, triad {probe['triad_gbps']:.1f} GB/s, in-place update "
        f"{probe['update_gbps']:.1f} GB/s; % bw is of the best, {probe['best_gbps']:.1f} GB/s",
        model,
    ]
    if contended(machine):
        lines.append("[yellow]warning: the machine was busy before this run (load average at least its CPU count): "
                     "steps wait for cores, and parallel torch ops can stall for far longer than they compute; "
                     "--threads below the idle cores helps[/]")
    return lines


def results_table(results, bandwidth_gbps, verdicts, title):
    t = Table(title=escape(title), title_justify="left",
              caption="step: median over rounds; spread: ± half the interquartile range, of the median; "
              "GB/s: compulsory bytes / step time; ratio: IMPL / baseline step time, paired, with the interval "
              "the gate's two tests read",
              caption_justify="left")
    t.add_column("workload", overflow="fold", max_width=22)
    t.add_column("impl", overflow="fold")
    for column in ("step", "spread", "params/s", "GB/s", "% bw", "state B/param", "peak MiB"):
        t.add_column(column, justify="right", no_wrap=True)
    if verdicts:
        t.add_column(escape("ratio [interval]"), justify="right", no_wrap=True)
        t.add_column("pairs/looks", justify="right", no_wrap=True)
        t.add_column("verdict", no_wrap=True)
        t.add_column("why", overflow="fold")
    for result in results:
        where = f"{result.workload} ({si(result.impl.params)} params, {len(WORKLOADS[result.workload])} tensors)"
        for k, side in enumerate([result.impl] + ([result.baseline] if result.baseline else [])):
            row = [where if k == 0 else "", escape(side.side.label), duration(side.median), f"±{side.spread / 2:.1%}",
                   si(side.params_per_second), "n/a" if side.gbps is None else f"{side.gbps:.1f}",
                   "n/a" if side.gbps is None else f"{side.fraction_of_bandwidth(bandwidth_gbps):.0%}",
                   f"{side.state_bytes_per_param:.3g}", mib(side.memory.get("peak_bytes"))]
            if verdicts:
                verdict = verdicts.get(result.workload) if k == 0 else None
                row += ["", "", "", ""] if verdict is None else [
                    f"{verdict.ratio:.3f} [{verdict.ratio_low:.3f}, {verdict.ratio_high:.3f}]",
                    f"{verdict.pairs}/{verdict.looks}", VERDICT_STYLE[verdict.verdict], verdict.reason]
            t.add_row(*row)
    return t


VERDICT_STYLE = {"not slower": "[green]not slower[/]", "slower": "[bold red]slower[/]",
                 "inconclusive": "[yellow]inconclusive[/]"}


def gate_line(outcome, threshold, alpha, budget):
    levels = outcome.levels
    return (f"gate: sign tests on log(IMPL/baseline) over interleaved pairs, looked at up to {LOOKS} times within "
            f"{budget:g} s ({outcome.seconds:.0f} s used); per look, not slower when the upper end is below "
            f"{1 + threshold:.3f} (level {levels.not_slower:.2g}), slower when the lower end is above 1 (level "
            f"{levels.slower:.2g} per workload) and the upper end is not; each error rate at most {alpha} over "
            f"the run")


def rate_line(rates):
    aa, *slowed = rates
    detections = ", ".join(f"{r.slowdown:.0%} slower: exit 1 {r.exit_1:.1%}, exit 0 {r.exit_0:.1%}" for r in slowed)
    return (f"gate self-check ({aa.replications} simulated runs resampled from this run's paired noise and "
            f"prices): A/A false alarms (exit 1) {aa.exit_1:.2%} ± {aa.standard_error:.2%}, exit 0 {aa.exit_0:.1%}, "
            f"exit 3 {aa.exit_3:.1%}, median {aa.median_seconds:.0f} s; {detections}")
