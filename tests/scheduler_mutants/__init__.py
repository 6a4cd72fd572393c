"""A catalogue of realistic learning-rate scheduler bugs that the scheduler goldens must catch.

Each mutant is a small subclass of the torch scheduler it imitates, with exactly one bug,
marked ``# BUG``, written the way a person re-implementing or patching the scheduler
might. Each ``<reference>_mutants.py`` module declares REFERENCE (the scheduler reference)
and MUTANTS (its classes). A class may set ``variant`` to the named variant of the
reference that it computes; the check's diagnosis must then name that variant.
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
    variant: str = None


def _mutant(reference, cls):
    description = " ".join((cls.__doc__ or cls.__name__).split())
    return Mutant(cls.__name__, reference, cls, description, cls.__dict__.get("variant"))


MUTANTS = []
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.endswith("_mutants"):
        _module = importlib.import_module(f"{__name__}.{_info.name}")
        MUTANTS += [_mutant(_module.REFERENCE, cls) for cls in _module.MUTANTS]
