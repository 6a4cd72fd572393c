"""Named functions for the schedulers that take callables, in plain Python.

LambdaLR and MultiplicativeLR take ``lr_lambda(epoch) -> factor``; CyclicLR takes
``scale_fn(x) -> scale``. A golden stores a function by its name here, and the check hands
torch these very functions, so the reference and the implementation under test call the
same code. Each is written with + - * / ** and comparisons only, so that it computes in
whatever number type it is given (an int epoch from torch, an mpf for the certificate).
"""


def warmup5_then_decay(epoch):
    """LambdaLR: linear warm-up (epoch + 1) / 5 over epochs 0..4, then 0.9 ** (epoch - 4)."""
    return (epoch + 1) / 5 if epoch < 5 else 0.9 ** (epoch - 4)


def inverse_sqrt(epoch):
    """LambdaLR: 1 / sqrt(epoch + 1) (the Transformer's decay, without its warm-up)."""
    return 1 / (epoch + 1) ** 0.5


def shrink_095(epoch):
    """MultiplicativeLR: a constant factor 0.95 per epoch."""
    return 0.95


def grow_then_shrink(epoch):
    """MultiplicativeLR: x1.25 per epoch up to epoch 4, then x0.85 (depends on the epoch, so an
    off-by-one epoch shows)."""
    return 1.25 if epoch <= 4 else 0.85


def inverse_cycle(x):
    """CyclicLR scale_fn: 1 / x (with scale_mode="cycle", the amplitude of cycle k is 1/k)."""
    return 1 / x


def decay_098(x):
    """CyclicLR scale_fn: 0.98 ** x (with scale_mode="iterations", exp_range with gamma 0.98)."""
    return 0.98 ** x


FUNCTIONS = {
    "warmup5_then_decay": warmup5_then_decay,
    "inverse_sqrt": inverse_sqrt,
    "shrink_0.95": shrink_095,
    "grow_then_shrink": grow_then_shrink,
    "inverse_cycle": inverse_cycle,
    "decay_0.98": decay_098,
}


class UnknownFunction(KeyError):
    def __str__(self):
        return f"unknown scheduler function {self.args[0]!r}; known: {', '.join(sorted(FUNCTIONS))}"


def get(name):
    """The registered function called ``name``."""
    try:
        return FUNCTIONS[name]
    except (KeyError, TypeError):
        raise UnknownFunction(name) from None
