"""How an implementation under test is driven: one adapter module per kind of implementation.

Every adapter has the same small protocol, which is everything the kinds of check call:

    Adapter(factory, hyperparameters, start, shapes, dtype, device, *, sparse=False,
            state_on_first=False, groups=(), schedule=None)
        builds the implementation on parameters starting at ``start`` (flat float64),
        one tensor per shape; raises what the implementation raises.
    step(flat_grad, absent=(), overflow=None)
                                one optimizer step on that gradient (flat float64); the contracts
                                (optgold.contracts) leave the tensors in ``absent`` without a gradient,
                                and with ``amp``, put ``overflow`` ("inf", "nan") into it
    step_closure(evaluate)      one step of an optimizer that re-evaluates the problem:
                                evaluate(flat float64 params) -> (loss, flat grad)
    flat_params()               the parameters, flat float64
    flat_state(names)           {name: [flat float64 per parameter, or None where that one does not
                                expose it]} for the torch-named state it exposes (optgold.adapters.joined
                                makes one flat array of it)
    step_counts()               each parameter's step count, or None where not exposed
    set_lr(lr)                  set the learning rate of every param group, as a scheduler does
    hyperparameter_groups()     the hyperparameters it held when built, one dict per param group, or None
    restart(order=None)         rebuild it from its own saved state, as a job resumed from a checkpoint
                                (parameters given in ``order`` where set)
    add_group(tensor)           add_param_group with the case's group holding that tensor

and, for the contracts, the constructor keywords ``held_back``, ``tensor_dtypes``,
``complex_view``, ``tensor_hyperparameters`` and ``amp`` (TorchOptimizerAdapter documents them).

ADAPTERS is the registry: a compiled step, an optax transformation, a Keras optimizer or
a sharded optimizer plugs in as one module and one line here. An adapter class may also
have ``claims(factory) -> bool``: with no --adapter given, the first adapter that claims
the implementation drives it (``select``), and torch's drives the rest.

A schedule adapter (``SCHEDULES = True``, optgold.adapters.optax_schedule) drives another
engine's lr schedule for the scheduler kind instead, with the smaller protocol its module
documents; ``KINDS`` names the kinds an adapter serves where it does not serve them all.
It claims before the optimizer adapter of the same engine.
"""
from optgold.adapters.compiled import CompiledTorchAdapter
from optgold.adapters.eager import TorchOptimizerAdapter, sparse_with_repeats
from optgold.adapters.keras import KerasOptimizerAdapter
from optgold.adapters.optax import OptaxAdapter
from optgold.adapters.optax_schedule import OptaxScheduleAdapter
from optgold.adapters.sharded import ShardedAdapter
from optgold.reference.errors import UsageError
from optgold.runner import DTYPES

ADAPTERS = {"torch": TorchOptimizerAdapter, "compiled": CompiledTorchAdapter, "keras": KerasOptimizerAdapter,
            "optax_schedule": OptaxScheduleAdapter, "optax": OptaxAdapter, "sharded": ShardedAdapter}

__all__ = ["ADAPTERS", "DTYPES", "TorchOptimizerAdapter", "get", "joined", "sparse_with_repeats"]


def joined(per_parameter):
    """One flat array of a state's per-parameter values (as flat_state gives them), or None where a
    parameter does not expose it."""
    import numpy as np

    if per_parameter is None or any(v is None for v in per_parameter):
        return None
    return np.concatenate(per_parameter)


class UnknownAdapter(UsageError, KeyError):
    def __str__(self):
        return f"unknown adapter {self.args[0]!r}; known: {', '.join(sorted(ADAPTERS))}"


def before_import(module_name):
    """Lets each adapter prepare the import of an IMPL's module (Keras picks its backend on import)."""
    for adapter in ADAPTERS.values():
        if hasattr(adapter, "before_import"):
            adapter.before_import(module_name)


def select(factory, name=None):
    """The adapter name to drive ``factory`` with: ``name`` where given, else the first adapter that
    claims it, else torch's."""
    if name is not None:
        return name
    return next((n for n, adapter in ADAPTERS.items() if getattr(adapter, "claims", None) and adapter.claims(factory)),
                "torch")


def get(name):
    try:
        return ADAPTERS[name]
    except KeyError:
        raise UnknownAdapter(name) from None
