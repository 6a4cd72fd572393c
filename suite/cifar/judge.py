"""Judge a CIFAR replay step by step: parameters, torch-named state and step counts against the golden's.

The tolerance of every element is C (suite/tolerance.py, the same calibrated margin as
the quadratic cases) times its running error bound (running_error.py): what rounding
in the implementation's dtype can do to it, cancellations included.

The run is never held whole (145,578 parameters a step), so the judge keeps only what
the report needs: the first divergence, the largest error, the largest fraction of the bound, and each
step's worst fraction per tensor (the HTML report's curves).
"""
import numpy as np

from optgold import compare
from optgold.adapters import joined
from optgold.tolerance import C


def curves(ratio_rows, shapes, names):
    """compare.curve's form of ``Judge.ratio_rows``: one row per step from the first seen, None where a step
    was not seen (a state not exposed then)."""
    out = []
    for quantity, rows in ratio_rows.items():
        if not rows:
            continue
        first, last = rows[0][0], rows[-1][0]
        ratio = [None] * (last - first + 1)
        for step, row in rows:
            ratio[step - first] = row
        width = len(rows[0][1])
        labels = [n for n, s in zip(names, shapes) if int(np.prod(s)) > 0]
        out.append({"quantity": quantity, "first_step": int(first),
                    "tensors": labels if width == len(labels) else ["all"], "ratio": ratio})
    return out


def describe(divergence, names):
    index = ", ".join(map(str, divergence.index))
    return (f"{divergence.quantity} diverge at step {divergence.step} in {names[divergence.tensor]} "
            f"(tensor {divergence.tensor}) [{index}]: observed {divergence.observed:.17g}, expected "
            f"{divergence.expected:.17g}, tolerance {divergence.tolerance:.3g}")


class Judge:
    """Each step against the golden: the first divergence, the largest error, the largest fraction of the bound."""

    def __init__(self, shapes, golden_lanes, error_lanes):
        self.shapes, self.golden, self.errors = shapes, golden_lanes, error_lanes
        self.first, self.max_error, self.used = None, 0.0, 0.0
        self.state_names = golden_lanes.state_names()
        self.ratio_rows = {}  # {quantity: [[step, compare.ratios' row], ...]}: the report's curves

    def see_step(self, t, observed, adapter):
        """Step t's parameters and state; the golden and error lanes have taken step t."""
        self.see("params", t, observed, self.golden.flat_params(), C * self.errors.param_errors())
        exposed = {name: joined(values) for name, values in adapter.flat_state(self.state_names).items()}
        for name in self.state_names:
            golden_state = self.golden.flat_state(name)
            if golden_state is not None and exposed.get(name) is not None and exposed[name].shape == golden_state.shape:
                self.see(name, t, exposed[name], golden_state, C * self.errors.state_errors(name))
        for k, count in enumerate(adapter.step_counts()):
            if count is not None and count != t and self.first is None:
                self.first = compare.Divergence("state step", t, k, (), float(count), float(t), 0.0)

    def see(self, quantity, step, observed, expected, bound):
        rows = observed[None], expected[None], bound[None]
        self.used = max(self.used, compare.tolerance_used(*rows))
        self.ratio_rows.setdefault(quantity, []).append([step, compare.ratios(*rows, self.shapes)[0].tolist()])
        if quantity == "params":
            self.max_error = max(self.max_error, compare.max_abs_error(*rows[:2]))
        found = compare.first_divergence(quantity, *rows, self.shapes, first_step=step)
        if found and self.first is None:
            self.first = found
