"""What a reference optimizer is, declared once: the spirit of torch's OptimizerInfo.

Each optimizer module declares ``CAPABILITIES = Capabilities(...)``. What can be read
off the reference itself is derived here instead of declared: the state it keeps
(``state_names``) and which of it is per-element buffers (``buffer_names``), by running
one step on a tiny problem. tests/test_capabilities.py validates every declaration
against the reference's behaviour and against the torch class it names.
"""
import inspect
from dataclasses import dataclass

TINY_SHAPE = (2, 3)  # a matrix, so that shape-using references (Muon, factored Adafactor) take it
TINY_START = [0.5, -1.0, 1.5, -2.0, 2.5, -3.0]
TINY_CURVATURE = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # distinct, so that LBFGS iterates more than once


@dataclass(frozen=True)
class Capabilities:
    torch: str = None  # "module:Class" whose documented algorithm this is; None where torch has none
    closure: bool = False  # step(x, closure, state, ...) evaluates closure(x) itself, on all params as one vector
    sparse_gradients: bool = False  # defined on sparse gradients only: implementations get a sparse COO gradient
    uses_shape: bool = False  # init_state and step take the tensor's shape
    compared_state: tuple = None  # the state judged; None: every state entry but "step" that every tensor has
    complex: bool = False  # takes complex parameters, updated as their view_as_real (torch's documented rule)
    matrices_only: bool = False  # updates 2-D matrices only (Muon): no empty or 0-dim tensors
    tensor_hyperparameters: tuple = ("lr",)  # may be given as 0-dim tensors (torch documents Tensor betas for Adam, AdamW)
    # step(..., store=None) stores its decoupled-decayed params before the update, as torch's algorithm and its
    # forloop and foreach paths do (p.mul_(1 - lr * weight_decay)): a storage format rounds them there too
    stores_decayed_params: bool = False
    # (dtype, variant): torch computes part of the update in that dtype whatever the parameter's, and the variant
    # rounds as it does (Muon: Newton-Schulz in bfloat16); such a reference is judged one step at a time
    inner_precision: tuple = None


class NoCapabilities(AttributeError):
    def __str__(self):
        return f"reference module {self.args[0]} declares no CAPABILITIES"


def of(module):
    """The Capabilities a reference module declares."""
    declared = getattr(module, "CAPABILITIES", None)
    if not isinstance(declared, Capabilities):
        raise NoCapabilities(module.__name__)
    return declared


def _tiny_step(module, hp):
    """The state after one step from init_state on 0.5 sum c_i x_i^2 (gradient c_i x_i)."""
    caps = of(module)
    hp = {**module.DEFAULTS, **(hp or {})}
    x = list(TINY_START)
    extra = {"shape": TINY_SHAPE} if caps.uses_shape else {}
    state = module.init_state(len(x), hp, 0.0, **extra)
    if caps.closure:
        def closure(point):
            return (sum(c * v * v for c, v in zip(TINY_CURVATURE, point)) / 2,
                    [c * v for c, v in zip(TINY_CURVATURE, point)])
        module.step(x, closure, state, **hp)
    else:
        module.step(x, [c * v for c, v in zip(TINY_CURVATURE, x)], state, **extra, **hp)
    return state


def state_names(module, hp=None):
    """The names of the state one step leaves (torch's names), in init_state's order."""
    return tuple(_tiny_step(module, hp))


def buffer_names(module, hp=None):
    """The state entries that are per-element buffers (one number per parameter element), in order."""
    state = _tiny_step(module, hp)
    return tuple(name for name, value in state.items()
                 if isinstance(value, list) and len(value) == len(TINY_START)
                 and not any(isinstance(v, list) for v in value))


def step_parameters(module):
    """(positional parameter names, keyword-only names) of the module's step."""
    params = inspect.signature(module.step).parameters.values()
    positional = tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    keywords = frozenset(p.name for p in params if p.kind == p.KEYWORD_ONLY)
    return positional, keywords


CONTRACTS = ("resume", "missing_grad", "empty_tensors", "tensor_hp", "complex", "amp", "group_added", "mixed_dtypes",
             "low_precision")  # reference/contracts.py says what the algorithm computes under each


def contract_reason(module, contract):
    """Why ``contract`` does not apply to the reference ``module`` (a skip reason), or None where it does."""
    caps = of(module)
    name = module.__name__.rpartition(".")[2]
    if contract not in CONTRACTS:
        raise KeyError(contract)
    if caps.closure:
        return (f"{name} evaluates its closure itself: contracts are defined for optimizers fed one gradient per "
                "step")
    if contract == "complex" and not caps.complex:
        return f"{name} takes no complex parameters" + (f" ({caps.torch} refuses them)" if caps.torch else "")
    if contract == "empty_tensors" and caps.matrices_only:
        return f"{name} updates 2-D matrices only: an empty or 0-dim tensor is not a parameter it takes"
    if contract == "empty_tensors" and caps.sparse_gradients:
        return f"{name} takes sparse gradients, of embedding tables: a 0-dim tensor has none"
    if contract == "low_precision" and "step" not in state_names(module):
        return f"{name} keeps no step count for a low-precision default dtype to round"
    return None


def contracts(module):
    """{contract: None where it applies, else why not}, in CONTRACTS order."""
    return {c: contract_reason(module, c) for c in CONTRACTS}
