"""Reference optimizer formulas in plain Python (standard library only).

Each optimizer module defines ``DEFAULTS`` (torch.optim's hyperparameter names and
defaults), ``VARIANTS`` (named alternatives used for diagnosis), ``CAPABILITIES``
(reference/capabilities.py), ``init_state`` and ``step``. ``step`` updates one tensor,
given as a flat list of numbers, in place; a module whose capabilities say uses_shape
also gets the tensor's ``shape``. Every module of this package that defines ``step``
and ``DEFAULTS`` is an optimizer reference.
"""
import importlib
import pkgutil

from .errors import UsageError

_SUPPORT = {"arith", "capabilities", "errors", "linalg", "problems", "trajectory"}


def _discover():
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _SUPPORT or info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "step") and hasattr(module, "DEFAULTS"):
            found[info.name] = module
    return found


OPTIMIZERS = _discover()


class UnknownReference(UsageError, KeyError):
    def __str__(self):
        return f"unknown reference {self.args[0]!r}; known: {', '.join(sorted(OPTIMIZERS))}"


def get(name):
    """The reference optimizer module called ``name``."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise UnknownReference(name) from None


def add(module, name):
    """Make ``module``, a reference kept outside this package (its author's own repository), known
    as ``name``: a plain-Python module with this package's protocol and a GRID of its cases.
    Adding the same module twice is harmless; another module under a known name is refused."""
    if OPTIMIZERS.get(name, module) is not module:
        raise UsageError(f"a reference named {name!r} already exists; rename {getattr(module, '__file__', name)}")
    OPTIMIZERS[name] = module
