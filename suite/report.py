"""Present a check: a terminal table, one row per case and mode, and the JSON contract."""
import io
import json
import shlex

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.segment import Segments
from rich.table import Table

STATUS_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}
UNBOUNDED = 100_000  # columns to measure a renderable in: wider than any row it has
LOG_WIDTH = 180  # outside a terminal, rows up to this wide stay on one line (as in `optgold bench`, `history`)


def table(report, console=None):
    """The case table, titled with the command line that reruns the check; ``console``: where it will be shown
    (a terminal narrower than the table narrows the title's lines too)."""
    settings = getattr(report, "settings", None) or {}
    t = Table(caption=escape(caption(settings)), caption_justify="left")
    t.add_column("case", overflow="fold")
    for column in ("mode", "dtype", "status", "step", "max error", "tol used"):
        t.add_column(column, no_wrap=True, justify="left" if column in ("mode", "dtype", "status") else "right")
    for c in report.cases:
        t.add_row(c.id, c.mode, c.dtype, f"[{STATUS_STYLE[c.status]}]{c.status}[/]",
                  "" if c.first_divergent_step is None else str(c.first_divergent_step),
                  "" if c.max_abs_error is None else f"{c.max_abs_error:.3g}",
                  "" if c.tolerance_used is None else f"{c.tolerance_used:.2g}")
    width = natural_width(Console(file=io.StringIO()), t)
    if console is not None and console.is_terminal:
        width = min(width, console.width)
    t.title = escape(continued(command_groups(report), width))
    t.title_justify = "default"  # "left" pads each line with spaces, and a space after " \\" ends the command
    return t


def command_line(report):
    """The ``optgold check`` command that reruns this check, on one line."""
    return " ".join(shlex.join(group) for group in command_groups(report))


def continued(groups, width):
    """The command in lines of at most ``width`` where it can, each but the last ending in " \\".

    A line breaks only between a flag's group, never between a flag and its value, and
    the continuations keep the whole pastable into a shell.
    """
    lines, line = [], ""
    for group in map(shlex.join, groups):
        if line and len(line) + 1 + len(group) + 2 > width:
            lines.append(line + " \\")
            line = "  " + group
        else:
            line = f"{line} {group}" if line else group
    return "\n".join(lines + [line])


def command_groups(report):
    """The words of the ``optgold check`` command that reruns this check, one group per flag and its value.

    Read from ``report.settings`` where the report has them. Settings at their default are
    left out, except dtype and device, which say what was judged; each impl arg is written
    as KEY=JSON, as ``--impl-arg`` reads it back.
    """
    s = getattr(report, "settings", None) or {}
    impl, reference = s.get("impl") or report.impl or "IMPL", s.get("reference") or report.reference
    groups = [["optgold", "check", str(impl)], ["--reference", str(reference)]]
    if s.get("kind") == "network":
        groups.append(["--problem", "cifar"])
    for flag, key in (("--dtype", "dtype"), ("--device", "device")):
        if s.get(key) is not None:
            groups.append([flag, str(s[key])])
    if s.get("master_weights"):
        groups.append(["--master-weights", str(s["master_weights"])])
    if s.get("cases"):
        groups.append(["--cases", ",".join(s["cases"])])
    if s.get("inner_precision"):
        groups.append(["--inner-precision", str(s["inner_precision"])])
    if s.get("rounding") not in (None, "nearest"):
        groups.append(["--rounding", str(s["rounding"])])
        if s["rounding"] == "kahan" and s.get("compensation") not in (None, "kahan_comp"):
            groups.append(["--compensation", str(s["compensation"])])
    modes = s.get("modes") or ()
    if len(modes) == 1 and modes[0] in ("free", "replay"):
        groups.append(["--mode", modes[0]])
    if s.get("adapter") not in (None, "torch"):
        groups.append(["--adapter", str(s["adapter"])])
    contracts = s.get("contracts")
    if contracts not in (None, "all"):
        groups.append(["--contracts", contracts if isinstance(contracts, str) else ",".join(contracts)])
    for key, value in (s.get("impl_args") or {}).items():
        groups.append(["--impl-arg", f"{key}={_json(value)}"])
    if s.get("golden_dir") is not None:
        groups.append(["--golden-dir", str(s["golden_dir"])])
    defaults = _limit_defaults(s.get("kind"))
    for flag, key in (("--timeout", "timeout"), ("--budget", "budget"), ("--threads", "threads")):
        if s.get(key) is not None and s[key] != defaults.get(key):
            groups.append([flag, _number(s[key])])
    return groups


def _json(value):
    """Compact JSON, as ``--impl-arg`` reads it back; a value JSON cannot hold (an object passed from Python) as
    its repr."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError):
        return repr(value)


def _number(value):
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _limit_defaults(kind_name):
    """{timeout, budget, threads} a check of this kind runs with when none is given (None where unknown)."""
    from optgold import check, kinds

    kind = kinds.KINDS.get(kind_name)
    return {"timeout": getattr(kind, "TIMEOUT", None), "budget": getattr(kind, "BUDGET", None),
            "threads": getattr(check, "THREADS", None)}


def caption(settings):
    """The versions and limits the check ran with, then what the columns mean."""
    facts = []
    if settings.get("optgold_version") or settings.get("torch_version"):
        facts.append(f"optgold {settings.get('optgold_version') or '?'}, torch {settings.get('torch_version') or '?'}")
    if settings.get("timeout") is not None:
        facts.append(f"timeout {_number(settings['timeout'])} s per {settings.get('timeout_per') or 'case'}")
    if settings.get("budget") is not None:
        facts.append(f"budget {_number(settings['budget'])} s")
    if settings.get("threads") is not None:
        facts.append(f"{settings['threads']} torch thread{'s' if settings['threads'] != 1 else ''}")
    meaning = "step: first divergent step; tol used: worst |error| / tolerance (1 or more fails)"
    return "; ".join(facts) + "\n" + meaning if facts else meaning


def details(report):
    """One paragraph per case with something to say: divergence, diagnosis, skip reason, horizon."""
    return [f"[{STATUS_STYLE[c.status]}]{c.id} ({c.mode}, {c.dtype})[/]: {c.message}" for c in report.cases
            if c.message]


def summary(report):
    counts = {s: sum(c.status == s for c in report.cases) for s in STATUS_STYLE}
    verdict = "[green]PASSED[/]" if report.passed else "[bold red]FAILED[/]"
    line = f"{verdict}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    if not counts["passed"] and not counts["failed"]:
        line += " (nothing ran: every case was skipped)"
    return line


def natural_width(console, renderable):
    """Columns ``renderable`` takes when nothing in it is wrapped, folded or cut."""
    return Measurement.get(console, console.options.update_width(UNBOUNDED), renderable).maximum


def print_whole(console, renderable):
    """Print a table so that no name in it is split over two rows or cut with "…" where nobody can widen the window.

    In a terminal the table fits the terminal. Elsewhere (a pipe, a file, a CI log) rich
    assumes 80 columns, which split case names over two rows: there the table takes the
    width its content needs, up to LOG_WIDTH, beyond which a long cell (a list of
    hyperparameters) wraps between its words but never inside one, and is written
    uncropped.
    """
    if console.is_terminal:
        console.print(renderable)
        return
    fit = Measurement.get(console, console.options.update_width(UNBOUNDED), renderable)
    width = max(fit.minimum, min(fit.maximum, max(console.width, LOG_WIDTH)))
    console.print(Segments(console.render(renderable, console.options.update_width(width))), crop=False)


def show(report, console=None):
    console = console or Console()
    print_whole(console, table(report, console))
    for line in details(report):
        console.print(line, highlight=False)
    console.print(summary(report))


def write_json(report, path):
    with open(path, "w") as f:
        json.dump(report.as_json(), f, indent=1)
        f.write("\n")
