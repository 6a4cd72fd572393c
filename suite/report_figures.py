"""The PNG figures of the HTML report (optgold.html_report), drawn from each case's evidence (check.evidence).

matplotlib's Agg canvas on a bare Figure, never pyplot: no display, no global state, and
no backend switched under a caller that has its own.
"""
import numpy as np

FLOOR = 1e-8  # |error| / tolerance below this (an exact 0 included) is drawn at it: a log axis has no 0
CEILING = 1e15  # and above it (inf: a NaN or an error where the bound is 0) at this
ONE_AXIS = 12  # lines on one axis at most; more (a network's tensors) get one axis per quantity
MAX_PAIRS = 8  # 2-D copies drawn on one contour plot
MAX_VARIANTS = 6  # named variants shown beside the reference
DPI = 72


def _figure(width=8.0, height=3.2):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path, left=0.11, right=0.98):
    # fixed margins: tight_layout would draw every figure twice, and a report draws dozens
    figure.subplots_adjust(left=left, right=right, bottom=0.16, top=0.9)
    figure.savefig(path, dpi=DPI)


def _log_axis(axis, which="y"):
    """A log axis with a labelled tick every few decades at most and no minor ticks: what makes a log
    figure slow to draw is its tick labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    getattr(axis, f"set_{which}scale")("log")
    ticked = getattr(axis, f"{which}axis")
    ticked.set_major_locator(LogLocator(numticks=8))
    ticked.set_minor_locator(NullLocator())
    ticked.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0e}"))  # plain text: mathtext is slow


def series(curve):
    """[(label, steps, ratios)] of one compare.curve: one per tensor, ratios as floats (nan: a step not seen)."""
    rows = [row if row is not None else [np.nan] * len(curve["tensors"]) for row in curve["ratio"]]
    if not rows or not curve["tensors"]:
        return []
    values = np.array(rows, dtype=np.float64)
    steps = np.arange(curve["first_step"], curve["first_step"] + len(values))
    many = len(curve["tensors"]) > 1
    return [(f"{curve['quantity']} {label}" if many else curve["quantity"], steps, values[:, k])
            for k, label in enumerate(curve["tensors"])]


def worst(curves):
    """(steps, the worst ratio over every tensor and quantity at each step) of a case's curves."""
    by_step = {}
    for curve in curves:
        for _, steps, values in series(curve):
            for step, value in zip(steps.tolist(), values.tolist()):
                if not np.isnan(value):
                    by_step[step] = max(by_step.get(step, 0.0), value)
    steps = sorted(by_step)
    return np.array(steps, dtype=int), np.array([by_step[s] for s in steps])


def _drawn(values):
    return np.clip(np.nan_to_num(values, nan=np.nan, posinf=CEILING), FLOOR, CEILING)


def _legend_beside(axis):
    # beside the axis, not loc="best": that searches every plotted point for a free corner
    axis.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _tolerance_line(axis, labelled=True):
    axis.axhline(1.0, color="black", linewidth=1.0, linestyle="--", label="tolerance (1)" if labelled else None)


def ratio_figure(result, path):
    """|error| / tolerance per step, per tensor and state buffer, log scale, the line at 1 and the first
    divergence marked: on one axis, or with more than ONE_AXIS lines (a network's tensors) one axis per
    quantity, each tensor in the same colour on every axis."""
    curves = [c for c in result.evidence["curves"] if c["tensors"]]
    together = sum(len(c["tensors"]) for c in curves) <= ONE_AXIS
    figure = _figure(8.0, 3.2 if together else 2.4 * ((len(curves) + 1) // 2) + 0.6)
    axes = [figure.subplots()] if together else list(np.atleast_1d(
        figure.subplots((len(curves) + 1) // 2, 2, sharex=True, sharey=True, squeeze=False).ravel()))
    for number, curve in enumerate(curves):
        axis = axes[0 if together else number]
        for k, (label, steps, values) in enumerate(series(curve)):
            if together:
                axis.plot(steps, _drawn(values), linewidth=1.0, label=label)
            else:  # the axis names the quantity; the legend, once, the tensors
                axis.plot(steps, _drawn(values), linewidth=1.0, color=f"C{k % 10}",
                          label=curve["tensors"][k] if number == 0 else None)
        if not together:
            axis.set_title(curve["quantity"], fontsize=8)
    for number, axis in enumerate(axes):
        if number >= max(len(curves), 1):
            axis.set_visible(False)
            continue
        _tolerance_line(axis, labelled=number == 0)
        if result.first_divergent_step is not None:
            axis.axvline(result.first_divergent_step, color="magenta", linewidth=1.5, linestyle="-.",
                         label=f"first divergence, step {result.first_divergent_step}" if number == 0 else None)
        _log_axis(axis)
    axes[-1 if together else min(len(curves), len(axes)) - 1].set_xlabel("step")
    axes[0].set_ylabel("|error| / tolerance")
    figure.suptitle(f"{result.id} ({result.mode}, {result.dtype})", fontsize=9)
    if together:
        _legend_beside(axes[0])
    else:
        figure.legend(*axes[0].get_legend_handles_labels(), fontsize=6, loc="upper left",
                      bbox_to_anchor=(0.71, 0.9))
    _save(figure, path, right=0.7)


def passing_figure(results, path):
    """Every passing case on one axis: its worst |error| / tolerance per step over all tensors and buffers."""
    figure = _figure()
    axis = figure.subplots()
    for result in results:
        steps, values = worst(result.evidence["curves"])
        axis.plot(steps, _drawn(values), linewidth=0.8, label=f"{result.id} ({result.mode})")
    _tolerance_line(axis)
    _log_axis(axis)
    axis.set_xlabel("step")
    axis.set_ylabel("worst |error| / tolerance")
    axis.set_title(f"{len(results)} passing case-modes, the worst tensor or buffer of each", fontsize=9)
    if len(results) <= 12:
        _legend_beside(axis)
    _save(figure, path, right=0.7 if len(results) <= 12 else 0.98)


def plane_figure(result, path, value):
    """The golden and observed trajectories of each 2-D copy (x, y pairs) over the problem's contours;
    ``value`` is optgold.problems.plane's f(x, y)."""
    plane = result.evidence["plane"]
    golden, observed = np.array(plane["golden"]), np.array(plane["observed"], dtype=np.float64)
    observed[~np.isfinite(observed)] = np.nan  # a run that blew up is drawn up to where it left the numbers
    pairs = min(golden.shape[1] // 2, MAX_PAIRS)
    xs, ys = golden[:, 0:2 * pairs:2], golden[:, 1:2 * pairs:2]
    (x0, x1), (y0, y1) = _span(xs), _span(ys)
    grid_x, grid_y = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    figure = _figure(6.4, 4.8)
    axis = figure.subplots()
    surface = value(grid_x, grid_y)
    levels = np.geomspace(max(surface.min(), 1e-3), surface.max(), 20)
    axis.contour(grid_x, grid_y, np.maximum(surface, 1e-3), levels=levels, colors="0.75", linewidths=0.6)
    colours = [f"C{k}" for k in range(10)]
    for k in range(pairs):
        colour = colours[k % len(colours)]
        axis.plot(golden[:, 2 * k], golden[:, 2 * k + 1], color=colour, linewidth=1.2,
                  label="golden" if k == 0 else None)
        axis.plot(observed[:, 2 * k], observed[:, 2 * k + 1], color=colour, linewidth=1.0, linestyle=":",
                  marker=".", markersize=1.5, label="observed" if k == 0 else None)
        axis.plot(golden[0, 2 * k], golden[0, 2 * k + 1], "o", color=colour, markersize=3)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_xlabel("x (even elements)")
    axis.set_ylabel("y (odd elements)")
    axis.set_title(f"{result.id} ({result.mode}) on {plane['problem']}: {pairs} pair(s), start marked", fontsize=9)
    axis.legend(fontsize=7, loc="upper right")
    _save(figure, path)


def _span(values):
    """The golden's range with a margin: an observed run that leaves it is shown leaving, not rescaled."""
    low, high = float(np.min(values)), float(np.max(values))
    margin = max(0.15 * (high - low), 0.1)
    return low - margin, high + margin


def variants_figure(result, path):
    """Each named variant's distance to the observed run beside the reference's, log scale, with the
    distance at or below which a variant is named."""
    variants = result.evidence["variants"]
    ranked = variants["ranked"][:MAX_VARIANTS]
    names = ["reference (torch)"] + [name for name, _ in ranked]
    distances = np.array([variants["reference"]] + [d for _, d in ranked], dtype=np.float64)
    colours = ["black"] + ["tab:green" if name == variants["named"] else "tab:blue" for name, _ in ranked]
    figure = _figure(6.4, 0.3 * len(names) + 1.4)
    axis = figure.subplots()
    positions = np.arange(len(names))[::-1]
    axis.barh(positions, np.clip(np.nan_to_num(distances, nan=CEILING, posinf=CEILING), 1e-18, None), color=colours)
    axis.set_yticks(positions, names, fontsize=7)
    limit = variants["threshold"] * variants["reference"]
    if np.isfinite(limit) and limit > 0:
        axis.axvline(limit, color="tab:red", linestyle="--", linewidth=1.0,
                     label=f"named at or below {limit:.2g} ({variants['threshold']:.2g} x the reference's)")
        axis.legend(fontsize=6, loc="lower right")
    _log_axis(axis, "x")
    axis.set_xlabel("distance to the observed run (max relative difference over steps)")
    axis.set_title(f"{result.id}: " + (f"named {variants['named']}" if variants["named"] else
                                      "no named variant explains it"), fontsize=9)
    _save(figure, path, left=0.3)
