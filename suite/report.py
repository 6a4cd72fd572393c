"""Present a check: a terminal table, one row per case and mode, and the JSON contract."""
import json

from rich.console import Console
from rich.table import Table

STATUS_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}


def table(report):
    t = Table(title=f"optgold check {report.impl} --reference {report.reference}", title_justify="left",
              caption="step: first divergent step; tol used: worst |error| / tolerance (1 or more fails)", caption_justify="left")
    t.add_column("case", overflow="fold")
    for column in ("mode", "dtype", "status", "step", "max error", "tol used"):
        t.add_column(column, no_wrap=True, justify="left" if column in ("mode", "dtype", "status") else "right")
    for c in report.cases:
        t.add_row(c.id, c.mode, c.dtype, f"[{STATUS_STYLE[c.status]}]{c.status}[/]",
                  "" if c.first_divergent_step is None else str(c.first_divergent_step),
                  "" if c.max_abs_error is None else f"{c.max_abs_error:.3g}",
                  "" if c.tolerance_used is None else f"{c.tolerance_used:.2g}")
    return t


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


def show(report, console=None):
    console = console or Console()
    console.print(table(report))
    for line in details(report):
        console.print(line, highlight=False)
    console.print(summary(report))


def write_json(report, path):
    with open(path, "w") as f:
        json.dump(report.as_json(), f, indent=1)
        f.write("\n")
