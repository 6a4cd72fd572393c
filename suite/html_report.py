"""The HTML report of a check: DIR/index.html, its PNG figures, and data.json, the data behind them.

A static page that opens from a file with no network (no script, no styles or fonts from
elsewhere): the summary table as the terminal shows it, the command line that reruns the
check, and per case the figures of optgold.report_figures.

The figure count is bounded, so a large check still writes in seconds: the first
DETAILED cases (failing cases first) get their own figures, every passing case is also
drawn on one shared figure, and the page names the cases left without their own.

Writing never loses data: the report is made in a temporary folder beside DIR and renamed
into place; an existing DIR is replaced only if it is empty or an earlier report (it has
MARKER), and a DIR that is a file, or a folder that cannot be written, is a one-line error.
"""
import html
import json
import os
import shutil
import tempfile
from pathlib import Path

from optgold import problems, report, report_figures
from optgold.reference.errors import UsageError

INDEX = "index.html"
DATA = "data.json"
MARKER = DATA  # what makes a folder an earlier report, replaced by the next one
FIGURES = "figures"
DETAILED = 12  # cases with figures of their own; the rest are in the table (and, passing, on the shared figure)
STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 70em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th:first-child, td:first-child, td.mode, td.dtype, td.status { text-align: left; }
span.passed, td.passed { color: #070; } span.failed, td.failed { color: #b00; font-weight: bold; }
td.skipped { color: #a60; }
pre { background: #f4f4f4; padding: 0.6em; white-space: pre-wrap; word-break: break-all; }
section.case { border-top: 1px solid #ddd; margin-top: 1.5em; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figcaption { font-size: 0.85em; max-width: 40em; }
"""


def check_directory(path, option="--report"):
    """UsageError (one line) unless ``path`` can take a report: its parent exists and is writable, and
    it is absent, an empty folder, or an earlier report. Called before a check runs, and again to write."""
    target = Path(path).expanduser()
    parent = target.parent if str(target.parent) else Path(".")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{option} {path}: is a file; give a folder for the report")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (target.is_dir() and not os.access(target, os.W_OK)):
        raise UsageError(f"{option} {path}: cannot be written here (permission)")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise UsageError(f"{option} {path}: the folder holds other files and no earlier report ({MARKER}); "
                         "give a new or empty folder")


def write(reports, directory, title=None, option="--report"):
    """Write the report of ``reports`` (CheckReports: one for `optgold check`, one per marked test for the
    pytest plugin) to ``directory``; returns the index.html path. ``option``: the flag an error names."""
    check_directory(directory, option)
    target = Path(directory).expanduser()
    parent = target.parent if str(target.parent) else Path(".")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        (staging / FIGURES).mkdir()
        page = _page(reports, staging, title)
        (staging / INDEX).write_text(page, encoding="utf-8")
        with open(staging / DATA, "w") as f:
            json.dump(data(reports), f)
        os.chmod(staging, 0o755)  # mkdtemp's 0700 would keep a CI artifact from its readers
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / INDEX


def _replace(staging, target):
    """Rename ``staging`` to ``target``; an earlier report there is moved aside first and removed last."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=staging.parent))
    os.rename(target, old / "report")
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old / "report", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _data(check_report):
    return {"reference": check_report.reference, "impl": check_report.impl, "kind": check_report.kind,
            "passed": check_report.passed, "command": report.command_line(check_report),
            "settings": check_report.settings, "extra": check_report.extra,
            "cases": [{**c.as_json(), "evidence": c.evidence} for c in check_report.cases]}


def data(reports):
    """The JSON-able form of ``reports``, as data.json holds it; ``reports_of`` reads it back."""
    return [_data(r) for r in reports]


def reports_of(checks):
    """CheckReports from ``data``'s form: what a report can be drawn from again (the pytest plugin's
    workers send their results so)."""
    from optgold.check import CaseResult, CheckReport

    fields = ("id", "status", "mode", "dtype", "contract", "first_divergent_step", "max_abs_error",
              "tolerance_used", "message", "hyperparameters")
    out = []
    for check_data in checks:
        cases = [CaseResult(**{k: c.get(k) for k in fields}, evidence=c.get("evidence"),
                            details={k: v for k, v in c.items() if k not in fields and k != "evidence"})
                 for c in check_data["cases"]]
        out.append(CheckReport(check_data["reference"], check_data["impl"], cases, kind=check_data["kind"],
                               extra=check_data.get("extra") or {}, settings=check_data.get("settings") or {}))
    return out


def _page(reports, folder, title):
    title = title or "; ".join(f"{r.impl or 'IMPL'} against {r.reference}" for r in reports)
    verdict = "PASSED" if all(r.passed for r in reports) else "FAILED"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>optgold check: "
             f"{_e(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>optgold check: {_e(title)} <span class=\"{verdict.lower()}\">{verdict}</span></h1>"]
    for number, check_report in enumerate(reports):
        parts.append(_check_section(check_report, folder, f"c{number}", heading=len(reports) > 1))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _check_section(check_report, folder, prefix, heading):
    """One check's table, command and figures; ``heading``: with its own title (a page of several checks)."""
    cases = check_report.cases
    drawable = [n for n, c in enumerate(cases) if c.evidence and c.evidence["curves"]]
    detailed = set(sorted(drawable, key=lambda n: cases[n].status != "failed")[:DETAILED])
    passing = [cases[n] for n in drawable if cases[n].status == "passed"]
    out = [f"<section class=\"check\" id=\"{prefix}\">",
           f"<h2>{_e(check_report.impl or 'IMPL')} against {_e(check_report.reference)} ({_e(check_report.kind)})"
           f"</h2>" if heading else "",
           f"<p class=\"summary\">{_e(_counts(check_report))} ({_e(check_report.kind)} kind)</p>",
           "<p>Rerun:</p>", f"<pre class=\"command\">{_e(report.command_line(check_report))}</pre>",
           _table(cases, prefix, detailed)]
    if passing:
        name = _figure_name(prefix, "passing")
        report_figures.passing_figure(passing, folder / FIGURES / name)
        out.append(_img(name, "passing", f"every passing case-mode ({len(passing)}): the worst |error| / tolerance "
                        "over its tensors and state buffers at each step, log scale; the dashed line is the "
                        "tolerance (1); all stay below 1 (largest "
                        f"{max(c.tolerance_used for c in passing):.2g})"))
    loss = _loss_curves(check_report, folder, prefix)
    if loss:
        out.append(loss)
    for number in sorted(detailed):
        out.append(_case_section(cases[number], folder, f"{prefix}-{number}"))
    uncharted = [c for c in cases if c.evidence and not c.evidence["curves"]]
    if uncharted:  # nothing judged had a ratio per step (Kahan summation without its compensation, say)
        out.append(f"<p class=\"uncharted\">{len(uncharted)} judged case-mode(s) recorded no |error| / tolerance "
                   f"curve (their messages say why): {_e(', '.join(sorted({c.id for c in uncharted})))}</p>")
    left = [cases[n] for n in drawable if n not in detailed]
    if left:
        out.append(f"<p class=\"left-out\">{len(left)} more judged case-mode(s) have no figures of their own "
                   f"(at most {DETAILED} a check: failing first); rerun with --cases to draw them: "
                   f"{_e(', '.join(sorted({c.id for c in left})))}</p>")
    out.append("</section>")
    return "\n".join(out)


def _counts(check_report):
    counts = {s: sum(c.status == s for c in check_report.cases) for s in ("passed", "failed", "skipped")}
    verdict = "PASSED" if check_report.passed else "FAILED"
    return f"{verdict}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"


def _table(cases, prefix, detailed):
    """The terminal's case table (optgold.report.table's columns), each case numbered in ``detailed`` linked to
    its section."""
    rows = ["<table class=\"cases\"><thead><tr><th>case</th><th>mode</th><th>dtype</th><th>status</th><th>step</th>"
            "<th>max error</th><th>tol used</th></tr></thead><tbody>"]
    for number, c in enumerate(cases):
        name = _e(c.id)
        if number in detailed:
            name = f"<a href=\"#{prefix}-{number}\">{name}</a>"
        rows.append(f"<tr><td>{name}</td><td class=\"mode\">{_e(c.mode)}</td><td class=\"dtype\">{_e(c.dtype)}</td>"
                    f"<td class=\"status {c.status}\">{c.status}</td>"
                    f"<td>{'' if c.first_divergent_step is None else c.first_divergent_step}</td>"
                    f"<td>{'' if c.max_abs_error is None else f'{c.max_abs_error:.3g}'}</td>"
                    f"<td>{'' if c.tolerance_used is None else f'{c.tolerance_used:.2g}'}</td></tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _case_section(case, folder, anchor):
    out = [f"<section class=\"case {case.status}\" id=\"{anchor}\">",
           f"<h3>{_e(case.id)} ({_e(case.mode)}, {_e(case.dtype)}): <span class=\"{case.status}\">{case.status}"
           "</span></h3>"]
    if case.message:
        out.append(f"<p class=\"message\">{_e(case.message)}</p>")
    name = _figure_name(anchor, "ratio")
    report_figures.ratio_figure(case, folder / FIGURES / name)
    step = case.first_divergent_step
    marked = (f"first divergence at step {step}, marked by the vertical line" if step is not None else
              f"no divergence: every curve stays below 1 (largest {case.tolerance_used:.2g})")
    out.append(_img(name, "ratio", f"|error| / tolerance at each step, per tensor and state buffer, log scale "
                    f"(values below {report_figures.FLOOR:g} drawn at it); the dashed line is the tolerance (1); "
                    f"{marked}"))
    value = problems.plane(case.evidence["plane"]["problem"]) if case.evidence.get("plane") else None
    if value is not None:
        name = _figure_name(anchor, "plane")
        report_figures.plane_figure(case, folder / FIGURES / name, value)
        out.append(_img(name, "plane", "the golden (solid) and observed (dotted) trajectories of each (x, y) pair "
                        "over the problem's contours"))
    variants = case.evidence.get("variants")
    if variants and variants["ranked"]:
        name = _figure_name(anchor, "variants")
        report_figures.variants_figure(case, folder / FIGURES / name)
        nearest, distance = variants["ranked"][0]
        out.append(_img(name, "variants", f"distance of each named variant to the observed run beside the "
                        f"reference's: nearest {nearest} at {distance:.2g}, reference at {variants['reference']:.2g}"
                        + (f"; named: {variants['named']}" if variants["named"] else "; none is named")))
    out.append("</section>")
    return "\n".join(out)


def _loss_curves(check_report, folder, prefix):
    """The CIFAR run's loss curves (optgold.cifar.free_run.plot), where the check trained IMPL on its own
    gradients (--loss-curve); else a line saying how to get them."""
    if check_report.kind != "network":
        return None
    if not any(c.details.get("free_run") for c in check_report.cases):
        return ("<p class=\"loss\">No loss curves: they need IMPL trained on its own gradients, which "
                "--loss-curve PNG does.</p>")
    from optgold.cifar.free_run import plot

    name = _figure_name(prefix, "loss")
    plot(check_report.cases, folder / FIGURES / name, check_report.extra.get("data", ""))
    return _img(name, "loss", "batch loss per step: the golden's and IMPL's free run (shown, not judged)")


def _figure_name(prefix, what):
    return f"{prefix}-{what}.png"


def _img(name, kind, caption):
    return (f"<figure class=\"{kind}\"><img src=\"{FIGURES}/{name}\" alt=\"{_e(caption)}\">"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _e(text):
    return html.escape(str(text))
