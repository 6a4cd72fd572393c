"""History figures: one PNG per benchmark and machine, and a static HTML page that shows them all.

Each figure has the median step time per stored run (x: run, labelled by commit),
its interquartile range as a band, the segment medians between change points, and
the change points as vertical lines: red for a slowdown beyond the threshold,
green for a speed-up beyond it, grey for smaller moves.
"""
import html
from pathlib import Path

from optgold.bench.store import slug


def _commit_label(point):
    """Short commit id, "+" when the tree had uncommitted changes."""
    return point.commit[:7] + ("+" if point.dirty else "")


def _tick_labels(points):
    """Commit ids; where a commit ran more than once, the run's time tells the runs apart."""
    labels = [_commit_label(p) for p in points]
    repeated = {label for label in labels if labels.count(label) > 1}
    return [f"{label} {p.when[5:19].replace('T', ' ')}" if label in repeated else label
            for label, p in zip(labels, points)]


def series_png(series, changes, path, threshold=0.05):
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    points = series.points
    x = range(len(points))
    ms = [p.median * 1e3 for p in points]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(points) + 3), 3.6), layout="constrained")
    ax.fill_between(x, [p.q1 * 1e3 for p in points], [p.q3 * 1e3 for p in points], color="tab:blue", alpha=0.2,
                    label="interquartile range")
    ax.plot(x, ms, "o-", color="tab:blue", markersize=3, linewidth=1, label="median step time")
    bounds = [0] + [c.index for c in changes] + [len(points)]
    levels = [changes[0].before] + [c.after for c in changes] if changes else [None]
    for k, ((start, end), level) in enumerate(zip(zip(bounds, bounds[1:]), levels)):
        if level is not None:
            ax.hlines(level * 1e3, start - 0.4, end - 0.6, color="black", linewidth=1.5,
                      label="segment median" if k == 0 else None)
    for change in changes:
        color = "tab:red" if change.ratio > 1 + threshold else "tab:green" if change.ratio < 1 - threshold else "grey"
        ax.axvline(change.index - 0.5, color=color, linestyle="--", linewidth=1.2)
        ax.annotate(f"{change.ratio - 1:+.1%}", (change.index - 0.5, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -11), textcoords="offset points", color=color, fontsize=8)
    ax.set_xticks(list(x), _tick_labels(points), rotation=60, fontsize=7, ha="right")
    ax.set_ylabel("step time (ms)")
    ax.set_ylim(0, 1.2 * max(p.q3 for p in points) * 1e3)  # headroom for the change labels
    ax.set_title(f"{series.benchmark}\n{series.machine}", fontsize=9)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_page(directory, rows, threshold):
    """index.html: a table of every series with its change points, and its figure below."""
    cells = []
    for series, changes, regression, image in rows:
        moves = "; ".join(f"{_commit_label(series.points[c.index])}: {c.ratio - 1:+.1%}" for c in changes) or "none"
        status = "regression at head" if regression else "ok"
        cells.append(f"<tr><td>{html.escape(series.benchmark)}</td><td>{html.escape(series.machine)}</td>"
                     f"<td>{len(series.points)}</td><td>{series.points[-1].median * 1e3:.3g} ms</td>"
                     f"<td>{html.escape(moves)}</td><td class='{'bad' if regression else 'ok'}'>{status}</td></tr>")
    figures = "\n".join(f"<figure><img src='{html.escape(image)}' alt='{html.escape(s.benchmark)}'>"
                        f"<figcaption>{html.escape(s.benchmark)} on {html.escape(s.machine)}</figcaption></figure>"
                        for s, _, _, image in rows)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>optgold benchmark history</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}} .bad{{color:#b00;font-weight:bold}} .ok{{color:#070}}
figure{{margin:2em 0}} img{{max-width:100%}}</style></head><body>
<h1>optgold benchmark history</h1>
<p>Change points: PELT on log step time (suite/bench/changepoints.py). A regression at the head is a last change
that made the newest runs slower by more than {threshold:.0%}.</p>
<table><tr><th>benchmark</th><th>machine</th><th>runs</th><th>latest median</th><th>change points</th>
<th>head</th></tr>
{chr(10).join(cells)}
</table>
{figures}
</body></html>
"""
    path = Path(directory) / "index.html"
    path.write_text(page)
    return path


def image_name(series):
    return f"{slug(series.benchmark + '__' + series.machine)}.png"
