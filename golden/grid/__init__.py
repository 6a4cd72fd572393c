"""The case grid: for each reference, the cases that make every term matter.

Choices that keep every hyperparameter above float32 noise: eps of 1e-3 where
sqrt(v_hat) gets small, weight decay of 0.1 and more, dampening with momentum,
maximize with weight decay (a sign bug on lr only shows there), amsgrad with
gradients that fall faster than beta2 forgets, and runs of a few hundred steps.
Maximize cases run on -f, so that they converge like their minimize twins.

One module per reference (``golden/grid/<reference>.py``) defines CASES.
"""
import importlib
import pkgutil

from optgold.golden.grid.case import Case, cases  # noqa: F401  (re-exported for grid modules)


def _discover():
    grid = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if module != "case":
            grid[module] = importlib.import_module(f"{__name__}.{module}").CASES
    return grid


GRID = _discover()


def grid_of(ref_name):
    """The cases of a reference: its module here, or, for a reference from outside the package,
    the rows of its own GRID (as ``cases`` takes them)."""
    if ref_name in GRID:
        return GRID[ref_name]
    from optgold import reference

    return cases(ref_name, reference.get(ref_name).GRID)
