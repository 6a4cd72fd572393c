"""Every reference's CAPABILITIES agree with what the reference does and with the torch class it names.

One validator checks each declaration; mutant declarations (each one field wrong) show
that it can fail. sparse_gradients is checked as "the torch class refuses a dense
gradient", not "accepts a sparse one": torch's SGD and Adagrad take sparse gradients
too, but their algorithms, and their goldens, are the dense ones.
"""
import dataclasses
import pathlib

import pytest
import torch

from optgold import reference
from optgold.golden.grid import GRID
from optgold.loading import ImplLoadError, load_impl
from optgold.reference import capabilities
from optgold.reference.capabilities import TINY_CURVATURE, TINY_SHAPE, TINY_START, Capabilities
from tests.mutants import CORRECT

RETIRED_FLAGS = ("TORCH", "CLOSURE", "SPARSE_GRADIENTS", "USES_SHAPE", "COMPARED_STATE")
ROOT = pathlib.Path(__file__).resolve().parent.parent


class Declared:
    """A reference module seen with another CAPABILITIES: what a wrong declaration would do."""

    def __init__(self, module, caps):
        self._module, self.CAPABILITIES, self.__name__ = module, caps, module.__name__

    def __getattr__(self, name):
        return getattr(self._module, name)


def hyperparameter_sets(name, module):
    """The defaults and every distinct hyperparameter set of the grid (param groups' too)."""
    found = [dict(module.DEFAULTS)]
    for case in GRID.get(name, ()):
        for hp in [case.hp] + [{**case.hp, **g["hp"]} for g in case.groups]:
            if hp not in found:
                found.append(hp)
    return found


def implementation_state(cls, caps, hp, sparse=None):
    """(state names, per-element tensor names) of cls after one step on the tiny problem."""
    shape = TINY_SHAPE if caps.uses_shape else (len(TINY_START),)
    p = torch.tensor(TINY_START, dtype=torch.float64).reshape(shape).requires_grad_()
    c = torch.tensor(TINY_CURVATURE, dtype=torch.float64).reshape(shape)
    optimizer = cls([p], **hp)
    if caps.closure:
        def closure():
            optimizer.zero_grad()
            loss = 0.5 * (c * p * p).sum()
            loss.backward()
            return loss
        optimizer.step(closure)
    else:
        grad = c * p.detach()
        p.grad = grad.to_sparse() if (caps.sparse_gradients if sparse is None else sparse) else grad
        optimizer.step()
    state = optimizer.state[p]
    return set(state), {k for k, v in state.items() if torch.is_tensor(v) and v.shape == p.shape}


def refuses_dense(cls, caps):
    try:
        implementation_state(cls, caps, {}, sparse=False)
    except RuntimeError:
        return True
    return False


def leaves_absent_entries(module, caps):
    """After three full steps, a step whose gradient has a zero entry leaves that entry's param and buffers."""
    hp = dict(module.DEFAULTS)
    extra = {"shape": TINY_SHAPE} if caps.uses_shape else {}
    x = list(TINY_START)
    state = module.init_state(len(x), hp, 0.0, **extra)
    for t in range(4):
        grad = [cv * v for cv, v in zip(TINY_CURVATURE, x)]
        if t == 3:
            grad[2] = 0.0
        before = (x[2], {k: v[2] for k, v in state.items() if isinstance(v, list)})
        module.step(x, grad, state, **extra, **hp)
    return (x[2], {k: v[2] for k, v in state.items() if isinstance(v, list)}) == before


def takes(cls, caps, dtype, shape):
    """Whether one forloop step of ``cls`` runs on a parameter of ``dtype`` and ``shape``."""
    p = torch.zeros(shape, dtype=dtype, requires_grad=True)
    kwargs = {"foreach": False} if "foreach" in cls.__init__.__code__.co_varnames else {}
    try:
        optimizer = cls([p], **kwargs)
        grad = torch.ones_like(p)
        p.grad = grad.to_sparse() if caps.sparse_gradients else grad
        optimizer.step(lambda: (p.abs() ** 2).sum()) if caps.closure else optimizer.step()
    except (RuntimeError, ValueError):
        return False
    return True


def problems(name, module):
    """What is wrong with the module's declaration; [] when it agrees with the reference and torch."""
    try:
        caps = capabilities.of(module)
    except AttributeError as error:
        return [str(error)]
    found = [f"{flag} is retired: declare it in CAPABILITIES" for flag in RETIRED_FLAGS if hasattr(module, flag)]
    positional, keywords = capabilities.step_parameters(module)
    if caps.closure != (positional[1:2] == ("closure",)):
        found.append(f"closure={caps.closure}, but step's second parameter is {positional[1:2]}")
    if caps.uses_shape != ("shape" in keywords):
        found.append(f"uses_shape={caps.uses_shape}, but step's keywords are {sorted(keywords)}")
    try:
        derived = {i: (set(capabilities.state_names(module, hp)), set(capabilities.buffer_names(module, hp)))
                   for i, hp in enumerate(hyperparameter_sets(name, module))}
    except Exception as error:  # a step driven the declared way does not run
        return found + [f"one step as declared raised {type(error).__name__}: {error}"]
    if caps.compared_state is not None:
        missing = set(caps.compared_state) - set().union(*(names for names, _ in derived.values()))
        if missing:
            found.append(f"compared_state names {sorted(missing)}, which the reference never keeps")
    if caps.sparse_gradients and not leaves_absent_entries(module, caps):
        found.append("sparse_gradients, but a zero-gradient entry still moves")
    if caps.torch is None:
        cls = CORRECT.get(name)
        if cls is None:
            return found + ["torch=None and no correct base in tests/mutants: nothing checks the state names"]
    else:
        try:
            cls = load_impl(caps.torch)
        except ImplLoadError as error:
            return found + [str(error)]
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            return found + [f"{caps.torch} is not a torch.optim.Optimizer"]
        if caps.sparse_gradients != refuses_dense(cls, caps):
            found.append(f"sparse_gradients={caps.sparse_gradients}, but {caps.torch} "
                         f"{'refuses' if refuses_dense(cls, caps) else 'takes'} a dense gradient")
        if not caps.closure and caps.complex != takes(cls, caps, torch.complex128, (2, 2)):
            found.append(f"complex={caps.complex}, but {caps.torch} {'takes' if not caps.complex else 'refuses'} "
                         "complex parameters")
        if caps.matrices_only != (not takes(cls, caps, torch.float64, (4,))):
            found.append(f"matrices_only={caps.matrices_only}, but {caps.torch} "
                         f"{'takes' if caps.matrices_only else 'refuses'} a vector")
    for i, hp in enumerate(hyperparameter_sets(name, module)):
        try:
            names, buffers = implementation_state(cls, caps, hp)
        except Exception as error:
            found.append(f"{cls.__name__}(**{hp}) step raised {type(error).__name__}: {error}")
            break
        if (names, buffers) != derived[i]:
            found.append(f"with {hp}: {cls.__name__} keeps {sorted(names)} (per element {sorted(buffers)}), "
                         f"the reference {sorted(derived[i][0])} (per element {sorted(derived[i][1])})")
            break
    return found


@pytest.mark.parametrize("name", sorted(reference.OPTIMIZERS))
def test_declaration_agrees_with_reference_and_torch(name):
    assert problems(name, reference.get(name)) == []


WRONG = [
    ("lbfgs", dict(closure=False)),
    ("adam", dict(closure=True)),
    ("adam", dict(uses_shape=True)),
    ("muon", dict(uses_shape=False)),
    ("lbfgs", dict(compared_state=("func_evals", "n_iters"))),
    ("adam", dict(torch="torch.optim:SGD")),
    ("rmsprop", dict(torch="torch.optim:Adam")),
    ("adam", dict(torch="torch.optim:Adamw")),
    ("adam", dict(torch="torch.optim.lr_scheduler:StepLR")),
    ("sparse_adam", dict(sparse_gradients=False)),
    ("adagrad", dict(sparse_gradients=True)),
    ("lion", dict(torch="torch.optim:Adam")),
    ("lamb", dict(torch="torch.optim:Lamb")),  # state names alone cannot tell LAMB from Adam: same names
    ("adam", dict(complex=False)),
    ("adafactor", dict(complex=True)),
    ("muon", dict(complex=True)),
    ("muon", dict(matrices_only=False)),
    ("sgd", dict(matrices_only=True)),
]


@pytest.mark.parametrize("name,wrong", WRONG, ids=[f"{n}-{next(iter(w))}" for n, w in WRONG])
def test_a_wrong_declaration_is_caught(name, wrong):
    module = reference.get(name)
    assert problems(name, Declared(module, dataclasses.replace(capabilities.of(module), **wrong)))


def test_a_missing_or_retired_declaration_is_caught():
    class Old(Declared):
        TORCH = "torch.optim:Adam"

    assert problems("adam", Declared(reference.get("adam"), None))
    assert problems("adam", Old(reference.get("adam"), capabilities.of(reference.get("adam"))))


def test_traffic_streams_are_the_derived_buffers():
    from optgold.bench import traffic

    assert traffic.state_arrays("adam", {"amsgrad": True}) == ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    assert traffic.state_arrays("sgd", {}) == ()
    assert not traffic.has_model("muon") and not traffic.has_model("lbfgs") and traffic.has_model("lion")


def test_no_code_reads_the_retired_flags():
    """getattr(module, "CLOSURE", False) would now quietly say False: no such read may remain."""
    this = pathlib.Path(__file__).resolve()
    readers = [f"{path.relative_to(ROOT)}: {flag}"
               for folder in ("reference", "golden", "suite", "tests") for path in (ROOT / folder).rglob("*.py")
               if path != this
               for flag in ('"TORCH"', '"CLOSURE"', '"SPARSE_GRADIENTS"', '"USES_SHAPE"', "COMPARED_STATE")
               if flag in path.read_text()]
    assert readers == []


def test_capabilities_is_a_frozen_declaration():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Capabilities().closure = True
