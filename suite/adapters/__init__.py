"""How an implementation under test is driven: one adapter module per kind of implementation.

Every adapter has the same small protocol, which is everything the kinds of check call:

    Adapter(factory, hyperparameters, start, shapes, dtype, device, *, sparse=False,
            state_on_first=False, groups=(), schedule=None)
        builds the implementation on parameters starting at ``start`` (flat float64),
        one tensor per shape; raises what the implementation raises.
    step(flat_grad)             one optimizer step on that gradient (flat float64)
    step_closure(evaluate)      one step of an optimizer that re-evaluates the problem:
                                evaluate(flat float64 params) -> (loss, flat grad)
    flat_params()               the parameters, flat float64
    flat_state(names)           {name: flat float64} for the torch-named state it exposes
    step_counts()               each parameter's step count, or None where not exposed
    set_lr(lr)                  set the learning rate of every param group, as a scheduler does
    hyperparameter_groups()     the hyperparameters it held when built, one dict per param group, or None
    restart()                   rebuild it from its own saved state, as a job resumed from a checkpoint

ADAPTERS is the registry: a compiled step, an optax transformation, a Keras optimizer or
a sharded optimizer plugs in as one module and one line here.
"""
from optgold.adapters.eager import TorchOptimizerAdapter, sparse_with_repeats
from optgold.reference.errors import UsageError
from optgold.runner import DTYPES

ADAPTERS = {"torch": TorchOptimizerAdapter}

__all__ = ["ADAPTERS", "DTYPES", "TorchOptimizerAdapter", "get", "sparse_with_repeats"]


class UnknownAdapter(UsageError, KeyError):
    def __str__(self):
        return f"unknown adapter {self.args[0]!r}; known: {', '.join(sorted(ADAPTERS))}"


def get(name):
    try:
        return ADAPTERS[name]
    except KeyError:
        raise UnknownAdapter(name) from None
