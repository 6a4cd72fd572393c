"""A Keras 3 optimizer (``keras.optimizers.Adam``, ...) on Keras's torch backend, driven with build/apply.

Keras picks its backend once, when it is first imported, from KERAS_BACKEND. The IMPL is
imported in the parent process (optgold.loading) and the worker is forked from it, so the
backend has to be chosen before that import: loading an IMPL from the keras package first
calls ``before_import``, which sets KERAS_BACKEND=torch where keras is not imported yet and
the environment names no other backend (nothing is set merely by importing optgold). A
keras already imported with another backend is a one-line UsageError naming the fix.

Hyperparameters arrive under torch's names and are given to Keras under its own (lr ->
learning_rate, betas -> beta_1/beta_2, eps -> epsilon, RMSprop's alpha -> rho, ...). A
torch hyperparameter Keras cannot express raises NotImplementedError, so the case is
skipped with the reason. Keras's constants that torch makes a hyperparameter (Nadam's
momentum schedule, Adagrad's eps placement) are the formula's: the judgement and the
diagnosis report them. State is read from the optimizer's variables under torch's names
where it is the same quantity; Keras's SGD and RMSprop momentum buffers hold lr times
torch's (Keras folds lr into the buffer), so they are not compared.
"""
import contextlib
import os
import sys

import numpy as np

from optgold.reference.errors import UsageError

def use_torch_backend():
    """KERAS_BACKEND=torch, unless keras is imported already or the environment names a backend."""
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "torch")  # keras reads it once, on import


class WrongKerasBackend(UsageError):
    """keras was imported with a backend other than torch's."""


def _keras():
    import keras

    backend = keras.backend.backend()
    if backend != "torch":
        raise WrongKerasBackend(f"keras was imported with the {backend!r} backend; the keras adapter needs torch's: "
                                "set KERAS_BACKEND=torch in the environment (before keras is imported)")
    return keras


# torch's name -> Keras's, for every Keras optimizer; BY_CLASS overrides it per class (and its subclasses)
RENAMED = {"lr": "learning_rate", "eps": "epsilon", "momentum": "momentum", "nesterov": "nesterov",
           "amsgrad": "amsgrad", "centered": "centered", "rho": "rho",
           "initial_accumulator_value": "initial_accumulator_value"}
BY_CLASS = {"RMSprop": {"alpha": "rho"},
            "Adafactor": {"beta2_decay": "beta_2_decay", "d": "clip_threshold", "eps": None}}  # eps: _adafactor_eps
# torch hyperparameters whose value Keras's formula fixes: dropped; the judgement shows the difference
FIXED_BY_FORMULA = {"Nadam": {"momentum_decay"}}
# the Keras classes whose torch counterpart decays p itself, as Keras's weight_decay does; the others' torch
# counterparts (Adam, SGD, RMSprop, ...) add weight_decay * p to the gradient (L2), unless decoupled_weight_decay
DECOUPLED_DECAY = {"AdamW", "Lion", "Adafactor", "Lamb", "Muon"}
# Keras's state attribute -> torch's state name, where both hold the same quantity
STATE = {"Adam": {"_momentums": "exp_avg", "_velocities": "exp_avg_sq", "_velocity_hats": "max_exp_avg_sq"},
         "Adamax": {"_m": "exp_avg", "_u": "exp_inf"},
         "Nadam": {"_momentums": "exp_avg", "_velocities": "exp_avg_sq"},
         "Lamb": {"_momentums": "exp_avg", "_velocities": "exp_avg_sq"},
         "Lion": {"_momentums": "exp_avg"},
         "RMSprop": {"_velocities": "square_avg", "_average_gradients": "grad_avg"},
         "Adagrad": {"_accumulators": "sum"},
         "Adadelta": {"_accumulated_grads": "square_avg", "_accumulated_delta_vars": "acc_delta"},
         "Adafactor": {"_r": "row_var", "_c": "col_var", "_v": "variance"}}


def _keras_class(optimizer_class):
    """The name of the first keras.optimizers class in the MRO: a subclass of Adam is driven as Adam."""
    keras = sys.modules.get("keras")
    for cls in getattr(optimizer_class, "__mro__", ()):
        if keras is not None and getattr(keras.optimizers, cls.__name__, None) is cls:
            return cls.__name__
    return None


def keras_hyperparameters(class_name, hp, dtype):
    """torch-named ``hp`` as the keywords of Keras's ``class_name``; NotImplementedError for one it cannot express."""
    renamed = {**RENAMED, **BY_CLASS.get(class_name, {})}
    out, decoupled = {}, hp.get("decoupled_weight_decay", class_name in DECOUPLED_DECAY)
    for name, value in hp.items():
        if name == "betas":
            out["beta_1"], out["beta_2"] = (float(b) for b in value)
        elif class_name == "Adafactor" and name == "eps":
            out["epsilon_1"], out["epsilon_2"] = _adafactor_eps(value, dtype)
        elif name == "weight_decay":
            if value and not decoupled:
                raise NotImplementedError(
                    f"torch's weight_decay={value} here is L2 added to the gradient; Keras's weight_decay only decays "
                    "the parameter (p -= lr * weight_decay * p, before the step), so Keras cannot express it")
            out["weight_decay"] = float(value) if value else None
        elif name == "decoupled_weight_decay" or name in FIXED_BY_FORMULA.get(class_name, ()):
            continue
        elif name in renamed:
            out[renamed[name]] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
                else value
        elif value in (False, None, 0) and not isinstance(value, tuple):
            continue  # off (maximize=False, dampening=0, foreach=None): what Keras does anyway
        else:
            raise NotImplementedError(f"Keras's {class_name or 'optimizer'} has no counterpart for torch's "
                                      f"{name}={value!r}")
    return out


def _adafactor_eps(eps, dtype):
    """torch's eps=(eps1, eps2) as Keras's (epsilon_1, epsilon_2); torch's eps1=None is the dtype's machine epsilon."""
    import torch

    eps1, eps2 = eps
    return (float(torch.finfo(getattr(torch, dtype)).eps) if eps1 is None else float(eps1)), float(eps2)


class KerasOptimizerAdapter:
    @staticmethod
    def before_import(module_name):
        """An IMPL from the keras package gets torch's backend (optgold.loading calls this first)."""
        if module_name.split(".")[0] == "keras":
            use_torch_backend()

    """A keras.optimizers.Optimizer class (or a factory taking Keras's keywords), one per param group, over
    keras.Variables of the check's dtype, stepped with ``optimizer.apply(grads, variables)``.

    Keras's floatx is the check's dtype while the optimizer is built and stepped, as a float64 Keras
    run sets it (keras.config.set_floatx): its learning-rate variable is made at floatx, and keras.ops
    turns a Python float into a floatx tensor, so with float32's an update_step written in keras.ops
    rounds 1 - beta_1 to 0.10000000149 in a float64 run (Keras's own torch-backend Adam, SGD, ...
    step with torch._foreach ops on Python floats and are not affected)."""

    def __init__(self, factory, hyperparameters, start, shapes, dtype, device, sparse=False, state_on_first=False,
                 groups=(), schedule=None, held_back=(), tensor_dtypes=None, complex_view=False,
                 tensor_hyperparameters=(), amp=None):
        keras = _keras()
        for name, given in (("tensor_dtypes", tensor_dtypes),
                            ("complex_view", complex_view), ("tensor_hyperparameters", tensor_hyperparameters),
                            ("amp", amp), ("sparse", sparse), ("state_on_first", state_on_first)):
            if given:
                raise NotImplementedError(f"the keras adapter does not drive {name}={given!r}")
        self.keras, self.factory, self.shapes, self.dtype = keras, factory, shapes, dtype
        self.device = str(device)
        self.class_name = _keras_class(factory)
        offsets = np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in shapes])]).astype(int)
        with keras.device(self.device):
            self.variables = [keras.Variable(np.asarray(start[a:b], dtype=dtype).reshape(s), dtype=dtype,
                                             name=f"tensor{k}")
                              for k, (s, a, b) in enumerate(zip(shapes, offsets[:-1], offsets[1:]))]
        self.hyperparameters = dict(hyperparameters)
        self.groups = [(list(g["tensors"]), {**self.hyperparameters, **g["hp"]}) for g in groups] or [
            (list(range(len(shapes))), self.hyperparameters)]
        self.held_back, self.built_on = set(held_back), {}
        self.optimizers = [None if self.held_back & set(tensors) else self._build(tensors, hp)
                           for tensors, hp in self.groups]
        self.schedule = _ScheduleProxy(schedule, [hp["lr"] for _, hp in self.groups]) if schedule else None

    @contextlib.contextmanager
    def _in_keras(self):
        """Keras's floatx at the check's dtype, and its device, for as long as Keras computes."""
        floatx = self.keras.config.floatx()
        self.keras.config.set_floatx(self.dtype)
        try:
            with self.keras.device(self.device):
                yield
        finally:
            self.keras.config.set_floatx(floatx)

    def _build(self, tensors, hp, order=None):
        """The group's optimizer, built on its variables (in ``order``, tensor numbers, where given)."""
        tensors = [k for k in order if k in tensors] if order else tensors
        kwargs = keras_hyperparameters(self.class_name, hp, self.dtype)
        with self._in_keras():
            optimizer = self.factory(**kwargs)
            if not isinstance(optimizer, self.keras.optimizers.Optimizer):
                raise UsageError(f"IMPL returned {type(optimizer).__name__}, not a keras.optimizers.Optimizer: the "
                                 "keras adapter needs a keras.optimizers.Optimizer class, or a factory returning one")
            optimizer.build([self.variables[k] for k in tensors])
        self.built_on[id(optimizer)] = tensors  # its slots are in this order (flat_state reads them so)
        return optimizer

    @staticmethod
    def claims(factory):
        """A keras.optimizers.Optimizer subclass (keras already imported: claiming never imports it)."""
        keras = sys.modules.get("keras")
        optimizers = getattr(keras, "optimizers", None)
        return isinstance(factory, type) and optimizers is not None and issubclass(factory, optimizers.Optimizer)

    def step(self, flat_grad, absent=(), overflow=None):
        """One ``apply`` per group; Keras skips a None gradient (but counts the step: its iterations are per optimizer)."""
        import torch

        if overflow:
            raise NotImplementedError("the keras adapter does not drive torch's GradScaler")
        grad = torch.tensor(np.asarray(flat_grad), dtype=torch.float64)
        offsets = np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in self.shapes])]).astype(int)
        grads = [None if k in absent else grad[a:b].reshape(s).to(getattr(torch, self.dtype)).to(self.device)
                 for k, (s, a, b) in enumerate(zip(self.shapes, offsets[:-1], offsets[1:]))]
        with self._in_keras():
            for optimizer, (tensors, _) in zip(self.optimizers, self.groups):
                given = [(grads[k], self.variables[k]) for k in tensors if grads[k] is not None]
                if optimizer is not None and given:
                    optimizer.apply([g for g, _ in given], [v for _, v in given])
            if self.schedule is not None:
                for optimizer, lr in zip(self.optimizers, self.schedule.step()):
                    if optimizer is not None:
                        optimizer.learning_rate = lr

    def step_closure(self, evaluate):
        raise NotImplementedError("Keras optimizers take gradients, not a closure that re-evaluates the problem")

    def set_lr(self, lr):
        """Assigned to each optimizer's learning-rate variable, as a Keras callback sets it."""
        with self._in_keras():
            for optimizer in self.optimizers:
                if optimizer is not None:
                    optimizer.learning_rate = float(lr)

    def hyperparameter_groups(self):
        """What each Keras optimizer holds, under torch's names (lr read from its variable, at its dtype)."""
        out = []
        for optimizer, (_, hp) in zip(self.optimizers, self.groups):
            if optimizer is None:  # joins later
                continue
            held = {"lr": _flat(optimizer.learning_rate).astype(self.dtype).reshape(())}
            if "betas" in hp and hasattr(optimizer, "beta_1"):
                held["betas"] = (optimizer.beta_1, optimizer.beta_2)
            for torch_name, keras_name in {**RENAMED, **BY_CLASS.get(self.class_name, {})}.items():
                if torch_name in hp and keras_name and torch_name not in ("lr", "weight_decay") \
                        and hasattr(optimizer, keras_name):
                    held[torch_name] = getattr(optimizer, keras_name)
            out.append(held)
        return out

    def flat_params(self):
        return np.concatenate([_flat(v) for v in self.variables])

    def flat_state(self, names):
        found = {}
        for attribute, name in _state_map(self.factory).items():
            if name not in names:
                continue
            values = [None] * len(self.variables)
            for optimizer in self.optimizers:
                tensors = self.built_on.get(id(optimizer), ())  # none: not joined yet
                for k, slot in zip(tensors, getattr(optimizer, attribute, None) or ()):
                    if slot is not None and _is_state_of(name, self.shapes[k]):
                        values[k] = _flat(slot)
            if any(v is not None for v in values):
                found[name] = values
        if "step" in names:
            found["step"] = [None if c is None else np.array([c]) for c in self.step_counts()]
        return found

    def quantized_state(self, names):
        return {}

    def step_counts(self):
        """Keras counts steps per optimizer (its ``iterations``), one per group here."""
        counts = [None] * len(self.variables)
        for optimizer, (tensors, _) in zip(self.optimizers, self.groups):
            for k in tensors:
                counts[k] = None if optimizer is None else float(optimizer.iterations.value.item())
        return counts

    def restart(self, order=None):
        """As a resumed job: each optimizer's variables through save_own_variables/load_own_variables,
        into a fresh optimizer built on fresh variables holding the same values, in ``order`` where given
        (Keras loads its variables by position, as torch's load_state_dict does)."""
        stores = []
        for optimizer in self.optimizers:
            store = {}
            if optimizer is not None:
                optimizer.save_own_variables(store)
            stores.append({k: np.array(v) for k, v in store.items()} if optimizer is not None else None)
        with self.keras.device(self.device):
            self.variables = [self.keras.Variable(v.numpy(), dtype=self.dtype, name=v.name) for v in self.variables]
        self.optimizers = [None if store is None else self._build(tensors, hp, order)
                           for store, (tensors, hp) in zip(stores, self.groups)]
        for optimizer, store in zip(self.optimizers, stores):
            if optimizer is not None:
                optimizer.load_own_variables(store)
                if self.schedule is not None:  # the schedule's lr, not the constructor's
                    optimizer.learning_rate = self.schedule.lrs[self.optimizers.index(optimizer)]

    def add_group(self, tensor):
        """The group holding ``tensor`` gets its optimizer now, built on its variables."""
        index = next(i for i, (tensors, _) in enumerate(self.groups) if tensor in tensors)
        self.held_back -= set(self.groups[index][0])
        self.optimizers[index] = self._build(*self.groups[index])

    def engine_notes(self):
        name = getattr(self.factory, "__name__", type(self.factory).__name__)
        kind = "" if name == self.class_name else f", a {self.class_name or 'custom'} subclass"
        return [f"Keras {self.keras.__version__} optimizer {name}{kind}, on Keras's torch backend"]


class _ScheduleProxy:
    """torch's scheduler of the case, stepped on a stand-in torch optimizer with one param group per
    Keras optimizer: its lr after each step is what the Keras optimizers are given (set_lr's way)."""

    def __init__(self, schedule, lrs):
        import torch

        from optgold.adapters.eager import make_scheduler

        self.stand_in = torch.optim.SGD([{"params": [torch.zeros(1)], "lr": lr} for lr in lrs])
        self.scheduler = make_scheduler(self.stand_in, schedule)
        self.lrs = [g["lr"] for g in self.stand_in.param_groups]

    def step(self):
        self.scheduler.step()
        self.lrs = [float(g["lr"]) for g in self.stand_in.param_groups]
        return self.lrs


def _state_map(factory):
    """Keras's attribute -> torch's name for the factory's class (a subclass inherits its base's map); a class
    written for optgold may name its own in ``torch_state_names``."""
    return getattr(factory, "torch_state_names", None) or STATE.get(_keras_class(factory), {})


def _is_state_of(name, shape):
    """Adafactor keeps row_var/col_var only for tensors of 2 or more dims, variance only for the others."""
    factored = len(shape) >= 2
    return {"row_var": factored, "col_var": factored, "variance": not factored}.get(name, True)


def _flat(variable):
    import torch

    value = variable.value if hasattr(variable, "value") else variable
    return value.detach().to("cpu", torch.float64).reshape(-1).numpy().copy()
