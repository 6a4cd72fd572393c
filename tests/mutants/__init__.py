"""A catalogue of realistic optimizer bugs that the default golden grid must catch.

Each mutant is a small torch.optim.Optimizer subclass with exactly one bug, written the
way a person writing their own optimizer might. ``CORRECT`` holds the bug-free bases
the mutants derive from; they must pass, so that a mutant fails only by its bug.

``caught_in_float32`` is False only where the bug's effect was measured to lie below
float32 rounding on the grid; ``why_not_float32`` then says why.

Each ``<name>_mutants.py`` module of this package declares REFERENCE, CORRECT (the
bug-free base) and MUTANTS (its mutant classes); a class may set
``caught_in_float32 = False`` with ``why_not_float32`` giving the measured reason.
"""
import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    reference: str
    cls: type
    description: str
    caught_in_float32: bool = True
    why_not_float32: str = None


def _mutant(reference, cls):
    description = " ".join((cls.__doc__ or cls.__name__).split())
    return Mutant(cls.__name__, reference, cls, description, getattr(cls, "caught_in_float32", True),
                  getattr(cls, "why_not_float32", None))


CORRECT, MUTANTS = {}, []
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.endswith("_mutants"):
        _module = importlib.import_module(f"{__name__}.{_info.name}")
        CORRECT[_module.REFERENCE] = _module.CORRECT
        MUTANTS += [_mutant(_module.REFERENCE, cls) for cls in _module.MUTANTS]
