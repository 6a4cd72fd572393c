"""Judge an observed trajectory against the golden: the first divergent step and element."""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Divergence:
    quantity: str  # "params" or a state name
    step: int
    tensor: int
    index: tuple
    observed: float
    expected: float
    tolerance: float

    def describe(self):
        where = f"tensor {self.tensor}[{', '.join(map(str, self.index))}]"
        return (f"{self.quantity} diverge at step {self.step}, {where}: observed {self.observed:.17g}, "
                f"expected {self.expected:.17g}, tolerance {self.tolerance:.3g}")


@dataclass(frozen=True)
class Finding(Divergence):
    """A divergence that one value does not tell (a biased rounding, a missing buffer): its own sentence."""
    text: str = ""

    def describe(self):
        return self.text


def locate(flat_index, shapes, width=None):
    """(tensor number, index within it) of a flat element index.

    A state whose width differs from the parameters' (a factored variance) is
    located by flat index only, as tensor -1.
    """
    if width is not None and width != sum(int(np.prod(s)) for s in shapes):
        return -1, (int(flat_index),)
    for k, shape in enumerate(shapes):
        n = int(np.prod(shape))
        if flat_index < n:
            return k, tuple(int(i) for i in np.unravel_index(flat_index, shape))
        flat_index -= n
    raise IndexError(flat_index)


def first_divergence(quantity, observed, expected, bound, shapes, first_step=0):
    """The first step where any element is off by more than its bound (NaN always is).

    Within that step, the element furthest outside its bound is reported.
    """
    rows = min(len(observed), len(expected))
    if rows == 0:
        return None
    if observed.shape[1:] != expected.shape[1:]:
        return Divergence(f"{quantity} (shape: {observed.shape[1]} elements, golden {expected.shape[1]})",
                          first_step, -1, (), float("nan"), float("nan"), 0.0)
    error = np.abs(observed[:rows] - expected[:rows])
    outside = ~(error <= bound[:rows])
    bad_steps = np.nonzero(outside.any(axis=1))[0]
    if bad_steps.size == 0:
        return None
    row = bad_steps[0]
    ratio = np.where(outside[row], np.nan_to_num(error[row] / bound[row], nan=np.inf, posinf=np.inf), -1.0)
    element = int(np.argmax(ratio))
    tensor, index = locate(element, shapes, expected.shape[1])
    return Divergence(quantity, int(row) + first_step, tensor, index, float(observed[row, element]),
                      float(expected[row, element]), float(bound[row, element]))


def max_abs_error(observed, expected):
    rows = min(len(observed), len(expected))
    if rows == 0 or observed.shape[1:] != expected.shape[1:]:
        return 0.0
    return float(np.nan_to_num(np.abs(observed[:rows] - expected[:rows]), nan=np.inf).max())


def ratios(observed, expected, bound, shapes):
    """(rows, tensors) |error| / tolerance, the worst element of each tensor at each step: what the HTML
    report draws (optgold.html_report). Above 1 exactly where ``first_divergence`` finds an element outside
    its bound (NaN counts as inf, an exact 0 within a 0 bound as 0). Empty tensors get no column; a state
    whose width is not the parameters' (a factored variance) one column for all its elements."""
    rows = min(len(observed), len(expected))
    if rows == 0 or observed.shape[1:] != expected.shape[1:]:
        return np.zeros((rows, 0))
    error = np.abs(observed[:rows] - expected[:rows])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(error == 0, 0.0, np.nan_to_num(error / bound[:rows], nan=np.inf, posinf=np.inf))
    sizes = [int(np.prod(s)) for s in shapes]
    if sum(sizes) != ratio.shape[1]:
        return ratio.max(axis=1, initial=0.0)[:, None]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])[np.array(sizes) > 0]
    return np.maximum.reduceat(ratio, starts, axis=1) if starts.size else np.zeros((rows, 0))


def tensor_labels(shapes, width, names=None):
    """The labels of ``ratios``' columns: the tensors' numbers (or ``names``), or "all" for one column."""
    sizes = [int(np.prod(s)) for s in shapes]
    if sum(sizes) != width:
        return ["all"]
    return [names[k] if names else f"tensor {k}" for k, n in enumerate(sizes) if n > 0]


def curve(quantity, observed, expected, bound, shapes, first_step=0, names=None):
    """One quantity's ``ratios`` as JSON-able data: {"quantity", "first_step" (the step of row 0),
    "tensors" (the columns' labels), "ratio" (one list per step)}."""
    ratio = ratios(observed, expected, bound, shapes)
    width = observed.shape[1] if observed.ndim == 2 else 0
    return {"quantity": quantity, "first_step": int(first_step),
            "tensors": tensor_labels(shapes, width, names) if ratio.shape[1] else [], "ratio": ratio.tolist()}


def tolerance_used(observed, expected, bound):
    """max |error| / tolerance: 1.0 or more is a divergence; a correct run stays well below."""
    rows = min(len(observed), len(expected))
    if rows == 0:
        return 0.0
    if observed.shape[1:] != expected.shape[1:]:
        return float("inf")
    return float(np.nan_to_num(np.abs(observed[:rows] - expected[:rows]) / bound[:rows], nan=np.inf).max())
