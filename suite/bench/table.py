"""Present a benchmark run: machine and probe lines, one table row per implementation and workload, the gate."""
from rich.markup import escape
from rich.table import Table

from optgold.bench import traffic
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


def results_table(results, bandwidth_gbps, verdicts, confidence, title):
    t = Table(title=escape(title), title_justify="left",
              caption="step: median over rounds; spread: ± half the interquartile range, of the median; "
              "GB/s: compulsory bytes / step time; ratio: IMPL / baseline step time, paired",
              caption_justify="left")
    t.add_column("workload", overflow="fold")
    t.add_column("impl", overflow="fold")
    for column in ("step", "spread", "params/s", "GB/s", "% bw", "state B/param", "peak MiB"):
        t.add_column(column, justify="right", no_wrap=True)
    if verdicts:
        t.add_column(f"ratio [{confidence:.0%} CI]", justify="right", no_wrap=True)
        t.add_column("gate", no_wrap=True)
    for result in results:
        where = f"{result.workload} ({si(result.impl.params)} params, {len(WORKLOADS[result.workload])} tensors)"
        for k, side in enumerate([result.impl] + ([result.baseline] if result.baseline else [])):
            row = [where if k == 0 else "", escape(side.side.label), duration(side.median), f"±{side.spread / 2:.1%}",
                   si(side.params_per_second), "n/a" if side.gbps is None else f"{side.gbps:.1f}",
                   "n/a" if side.gbps is None else f"{side.fraction_of_bandwidth(bandwidth_gbps):.0%}",
                   f"{side.state_bytes_per_param:.3g}", mib(side.memory["peak_bytes"])]
            if verdicts:
                verdict = verdicts.get(result.workload) if k == 0 else None
                row += ["", ""] if verdict is None else [
                    f"{verdict.ratio:.3f} [{verdict.ratio_low:.3f}, {verdict.ratio_high:.3f}]",
                    "[bold red]slower[/]" if verdict.failed else "[green]pass[/]"]
            t.add_row(*row)
    return t


def rate_line(rates):
    aa, *slowed = rates
    detections = ", ".join(f"{r.slowdown:.0%} slower: {r.exit_1:.1%}" for r in slowed)
    return (f"gate self-check ({aa.replications} replications resampled from this run's paired noise): "
            f"false alarms (A/A) {aa.exit_1:.2%} ± {aa.standard_error:.2%} "
            f"(first run alone {aa.first_run_fails:.2%}); detection {detections}")
