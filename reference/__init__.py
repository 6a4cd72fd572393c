"""Reference optimizer formulas in plain Python (standard library only).

Each optimizer module defines ``DEFAULTS`` (torch.optim's hyperparameter names and
defaults), ``VARIANTS`` (named alternatives used for diagnosis), ``init_state`` and
``step``. ``step`` updates one tensor, given as a flat list of numbers, in place.
"""
from reference import adam, adamw, sgd

OPTIMIZERS = {"sgd": sgd, "adam": adam, "adamw": adamw}


class UnknownReference(KeyError):
    def __str__(self):
        return f"unknown reference {self.args[0]!r}; known: {', '.join(sorted(OPTIMIZERS))}"


def get(name):
    """The reference optimizer module called ``name``."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise UnknownReference(name) from None
