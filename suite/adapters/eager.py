"""The eager torch adapter: a torch.optim.Optimizer, or a factory returning one (optgold.adapters' protocol)."""
import numpy as np
import torch

from optgold import quantized
from optgold.reference.errors import UsageError
from optgold.runner import DTYPES


class NotAnOptimizer(UsageError):
    """The factory returned something the adapter cannot drive: the IMPL argument is wrong, not its arithmetic."""


class TorchOptimizerAdapter:
    """A torch.optim.Optimizer (or a factory returning one), fed through ``.grad``.

    Gradients are copied into the existing ``.grad`` tensors, as backward() does with
    retained gradients, so an optimizer that aliases a gradient instead of copying it
    is caught. A step must leave each ``.grad`` as it was given, element for element:
    code around an optimizer (gradient logging, clipping of the next accumulation, a
    second optimizer on the same parameters) reads it after the step, so a step that
    changes it in place (weight decay added into the gradient, say) is a ContractBreach.
    """

    def __init__(self, factory, hyperparameters, start, shapes, dtype, device, sparse=False, state_on_first=False,
                 groups=(), schedule=None, held_back=(), tensor_dtypes=None, complex_view=False,
                 tensor_hyperparameters=(), amp=None):
        """``groups``: ({"tensors": [...], "hp": {overrides}}, ...) become torch param groups.
        ``schedule``: {"scheduler": reference name, "hp": {...}}: torch's scheduler of that name
        is stepped after every optimizer step. The contracts (optgold.contracts) add:
        ``held_back``: tensors whose group joins later, through add_group; ``tensor_dtypes``: a
        dtype name per tensor; ``complex_view``: each tensor complex, one element per pair of
        real ones; ``tensor_hyperparameters``: names given as 0-dim float64 tensors; ``amp``:
        {"unscale_first": bool}, steps through torch.amp.GradScaler."""
        self.params, offset = [], 0
        dtypes = tensor_dtypes or [dtype] * len(shapes)
        for shape, name in zip(shapes, dtypes):
            n = int(np.prod(shape))
            chunk = torch.tensor(start[offset:offset + n], dtype=torch.float64).reshape(shape)
            if complex_view:
                chunk = torch.view_as_complex(chunk.reshape(*shape[:-1], shape[-1] // 2, 2).contiguous())
            self.params.append(chunk.to(dtype=_complex_of(DTYPES[name]) if complex_view else DTYPES[name],
                                        device=device))
            offset += n
        self.shapes, self.sparse, self.state_on_first = shapes, sparse, state_on_first
        self.factory, self.schedule = factory, schedule
        self.hyperparameters = _tensors(hyperparameters, tensor_hyperparameters)
        self.groups = tuple({**g, "hp": _tensors(g["hp"], tensor_hyperparameters)} for g in groups)
        self.held_back, self.amp, self.scaler = set(held_back), amp, None
        self.optimizer, self.scheduler = self._build()

    def _build(self, order=None):
        """The optimizer over ``self.params`` (in ``order``, tensor numbers, where given)."""
        order = order or range(len(self.params))
        groups = [g for g in self.groups if not self.held_back & set(g["tensors"])]
        params = [{"params": [self.params[k] for k in g["tensors"]], **g["hp"]} for g in groups] or [
            self.params[k] for k in order if k not in self.held_back]
        optimizer = self.factory(params, **self.hyperparameters)
        if not callable(getattr(optimizer, "step", None)):
            raise NotAnOptimizer(f"IMPL returned {type(optimizer).__name__}, not an optimizer (it has no step()): the "
                                 "torch adapter needs a torch.optim.Optimizer, or a factory returning one")
        self._built_groups = _hyperparameter_groups(optimizer)  # before a scheduler moves the lr
        scheduler = make_scheduler(optimizer, self.schedule) if self.schedule else None
        return optimizer, scheduler

    def restart(self, order=None):
        """As a job restarted from a checkpoint: the optimizer's and scheduler's state_dicts through
        torch.save and torch.load(weights_only=True, map_location="cpu"), as through a file; fresh
        parameter tensors holding the same values; a fresh optimizer (and scheduler) from the same
        factory, with its parameters in ``order`` (tensor numbers) where given; the state loaded.
        A ContractBreach if a loaded state tensor lost the dtype, shape or device it was saved with."""
        saved = _through_file({"optimizer": self.optimizer.state_dict(),
                               "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None})
        before = _state_layout(self.optimizer, self.params, range(len(self.params)))
        self.params = [p.detach().clone() for p in self.params]
        self.optimizer, self.scheduler = self._build(order)
        self.optimizer.load_state_dict(saved["optimizer"])
        if saved["scheduler"] is not None:
            self.scheduler.load_state_dict(saved["scheduler"])
        after = _state_layout(self.optimizer, self.params, order or range(len(self.params)))
        for position, (was, now) in enumerate(zip(before, after)):
            for name in sorted(set(was) & set(now)):
                if was[name] != now[name]:
                    from optgold.check import ContractBreach

                    raise ContractBreach(f"after torch.save, torch.load and load_state_dict, state {name!r} of the "
                                         f"parameter at position {position} is {_layout_text(now[name])}; it was "
                                         f"saved as {_layout_text(was[name])}")

    def add_group(self, tensor):
        """add_param_group with the case's group holding ``tensor``, and its own hyperparameters."""
        group = next(g for g in self.groups if tensor in g["tensors"])
        self.held_back -= set(group["tensors"])
        self.optimizer.add_param_group({"params": [self.params[k] for k in group["tensors"]], **group["hp"]})

    def _write_grads(self, flat_grad, absent=(), scale=1.0):
        grad = torch.tensor(flat_grad, dtype=torch.float64)  # a copy: the goldens stay untouched
        if scale != 1.0:
            grad = grad * scale  # a power of two (GradScaler's): exact
        offset, self._given = 0, []
        for k, p in enumerate(self.params):
            n = p.numel() * (2 if p.is_complex() else 1)
            g = grad[offset:offset + n]
            offset += n
            if k in absent:
                p.grad = None
                self._given.append(None)
                continue
            g = torch.view_as_complex(g.reshape(*p.shape, 2)) if p.is_complex() else g.reshape(p.shape)
            g = g.to(dtype=p.dtype, device=p.device)
            if self.sparse:
                p.grad = sparse_with_repeats(g)
            elif p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.copy_(g)
            self._given.append(p.grad.detach().clone())

    def _check_grads_kept(self):
        """ContractBreach if the step changed a ``.grad`` it was given."""
        from optgold.check import ContractBreach

        for k, (p, given) in enumerate(zip(self.params, self._given)):
            if given is None:
                continue
            now = p.grad
            if now is not None and now.layout == torch.strided and torch.equal(now, given):
                continue  # as given, element for element (the common case; NaN takes the slow path)
            if now is None:
                raise ContractBreach(f"the step set .grad of tensor {k} {tuple(p.shape)} to None; a step must leave "
                                     ".grad as it was given")
            dense_now = now.detach().to_dense() if now.layout != torch.strided else now.detach()
            dense_given = given.to_dense() if given.layout != torch.strided else given
            if dense_now.shape != dense_given.shape:
                raise ContractBreach(f"the step replaced .grad of tensor {k} {tuple(p.shape)} with one of shape "
                                     f"{tuple(dense_now.shape)}; a step must leave .grad as it was given")
            changed = (dense_now != dense_given) & ~(dense_now.isnan() & dense_given.isnan())
            if changed.any():
                where = tuple(int(i) for i in changed.nonzero()[0])
                raise ContractBreach(f"the step changed .grad of tensor {k} {tuple(p.shape)} in place: element "
                                     f"{list(where)} was given {_number(dense_given[where])} and is "
                                     f"{_number(dense_now[where])} after the step ({int(changed.sum())} of "
                                     f"{changed.numel()} elements changed); a step must leave .grad as it was given")

    def step(self, flat_grad, absent=(), overflow=None):
        """One step on ``flat_grad``; tensors in ``absent`` get .grad None. Under amp, ``overflow``
        ("inf" or "nan") puts that value into the first element with a gradient."""
        if self.amp is not None:
            return self._scaled_step(flat_grad, absent, overflow)
        self._write_grads(flat_grad, absent)
        self.optimizer.step()
        self._check_grads_kept()
        if self.scheduler is not None:
            self.scheduler.step()

    def _scaled_step(self, flat_grad, absent, overflow):
        """torch's AMP recipe: gradients scaled by the scaler's scale, scaler.step, scaler.update, and
        the scheduler stepped only if the scale did not drop (the step was not skipped). GradScaler
        unscales .grad in place, so the gradient contract is not checked here."""
        if self.scaler is None:
            device = self.params[0].device.type
            self.scaler = torch.amp.GradScaler(device, init_scale=2.0 ** 10, growth_interval=3)
            self.scaler.scale(torch.ones((), device=self.params[0].device))  # makes its scale tensor
        scale = self.scaler.get_scale()
        if overflow:  # into the first element of a tensor with a gradient, before any sparse layout
            flat_grad, offset = np.array(flat_grad, dtype=np.float64), 0
            for k, p in enumerate(self.params):
                n = p.numel() * (2 if p.is_complex() else 1)
                if n and k not in absent:
                    flat_grad[offset] = float(overflow)
                    break
                offset += n
        self._write_grads(flat_grad, absent, scale)
        if self.amp["unscale_first"]:
            self.scaler.unscale_(self.optimizer)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None and self.scaler.get_scale() >= scale:
            self.scheduler.step()

    def step_closure(self, evaluate):
        """For optimizers that re-evaluate (LBFGS): evaluate(flat float64 params) -> (loss, flat grad)."""
        def closure():
            loss, grad = evaluate(self.flat_params())
            self._write_grads(grad)
            return torch.tensor(float(loss), dtype=self.params[0].dtype, device=self.params[0].device)

        self.optimizer.step(closure)
        self._check_grads_kept()

    def set_lr(self, lr):
        groups = getattr(self.optimizer, "param_groups", None)
        if groups is None:
            raise NotImplementedError("the case schedules lr, and the implementation exposes no param_groups to "
                                      "set it in")
        for group in groups:
            group["lr"] = lr

    def hyperparameter_groups(self):
        """As built, before an attached scheduler set its first lr."""
        return self._built_groups

    def flat_params(self):
        return torch.cat([_real(p.detach()).reshape(-1).to("cpu", torch.float64) for p in self.params]).numpy()

    def flat_state(self, names):
        """{name: [flat float64 values, or None where that parameter does not expose it]} for each
        state name some parameter exposes as a number or tensor (any shape: Adafactor's row and
        column variances are smaller than the parameter; a complex buffer reads as its view_as_real).
        Quantized state (bitsandbytes, torchao: optgold.quantized) reads dequantized, under torch's names."""
        return self._per_name(names, _read_back)

    def quantized_state(self, names):
        """{name: [optgold.quantized.Quantized (codes, qmap, absmax, block size), or None where that
        parameter's state is not quantized]} for each name some parameter keeps quantized; {} if none."""
        if self._reader() is None:
            return {}
        return self._per_name(names, lambda v: v if isinstance(v, quantized.Quantized) else None)

    def _per_name(self, names, value_of):
        """{name: [value_of(that parameter's entry), ...]} for each name some parameter gives a value."""
        found, readable = {}, self._readable_state()
        for name in names:
            values = [value_of(entries.get(name)) for entries in readable]
            if any(v is not None for v in values):
                found[name] = values
        return found

    def _readable_state(self):
        """Per parameter, its state with quantized buffers read under torch's names."""
        state = getattr(self.optimizer, "state", {})
        owners = self.params[:1] if self.state_on_first else self.params
        entries = [state.get(p, {}) if hasattr(state, "get") else {} for p in owners]
        reader = self._reader()
        if reader is None:
            return entries
        return [{**held, **reader.buffers(self.optimizer, held)} if held else held for held in entries]

    def _reader(self):
        """The quantized-state reader of the optimizer's library (optgold.quantized), or None; its class
        does not change, so it is looked up once."""
        if getattr(self, "_reader_of", (None,))[0] is not type(self.optimizer):
            self._reader_of = (type(self.optimizer), quantized.reader_for(self.optimizer))
        return self._reader_of[1]

    def step_counts(self):
        """Each parameter's ``step`` state as a number, or None where it is not exposed."""
        state = getattr(self.optimizer, "state", {})
        counts = []
        for p in self.params:
            value = state.get(p, {}).get("step") if hasattr(state, "get") else None
            counts.append(float(value) if isinstance(value, (int, float, torch.Tensor)) else None)
        return counts


def _number(value):
    value = value.item()
    return f"{value:.17g}" if isinstance(value, float) else str(value)


def _complex_of(dtype):
    return {torch.float64: torch.complex128, torch.float32: torch.complex64}[dtype]


def _real(tensor):
    return torch.view_as_real(tensor) if tensor.is_complex() else tensor


def _read_back(value):
    """A state entry as flat float64 values (dequantized where it is quantized), or None where it is
    not a number or tensor."""
    if isinstance(value, quantized.Quantized):
        return value.dequantized()
    if isinstance(value, (torch.Tensor, int, float)) and not isinstance(value, bool):
        return _flat_value(value)
    return None


def _flat_value(value):
    if not isinstance(value, torch.Tensor):
        return np.array([float(value)])
    # a copy: a float64 tensor's numpy() would share the buffer torch keeps updating in place
    return _real(value.detach()).to("cpu", torch.float64).reshape(-1).numpy().copy()


def _tensors(hp, names):
    """``hp`` with the hyperparameters in ``names`` as 0-dim float64 tensors (a tuple, each of its floats)."""
    def tensor(v):
        return torch.tensor(v, dtype=torch.float64) if isinstance(v, float) else v
    return {k: (tuple(tensor(x) for x in v) if isinstance(v, tuple) else tensor(v)) if k in names else v
            for k, v in hp.items()}


def _through_file(obj):
    """``obj`` written with torch.save and read back with torch.load(weights_only=True), as a checkpoint is."""
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True, map_location="cpu")


def _state_layout(optimizer, params, order):
    """Per position in the optimizer: {state name: (dtype, shape, device)} of its tensor state."""
    state = getattr(optimizer, "state", {})
    out = []
    for k in order:
        entries = state.get(params[k], {}) if hasattr(state, "get") else {}
        out.append({name: (v.dtype, tuple(v.shape), v.device.type) for name, v in entries.items()
                    if isinstance(v, torch.Tensor)})
    return out


def _layout_text(layout):
    dtype, shape, device = layout
    return f"{str(dtype).replace('torch.', '')} {list(shape)} on {device}"


def _hyperparameter_groups(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        return None
    # a tensor hyperparameter is copied: a scheduler changes it in place (a compiled step's lr)
    return [{k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in g.items() if k != "params"}
            for g in groups]


def make_scheduler(optimizer, schedule):
    """torch's own scheduler for a reference scheduler name (checked on its own by
    `optgold check --reference <scheduler>`), driving the optimizer under test.

    A scheduler that cannot be built on the implementation (it has no ``momentum`` to
    cycle, say) is the case's setup failing, reported as that."""
    from optgold.check import SetupError
    from optgold.loading import load_impl
    from optgold.reference import schedulers

    spec = schedulers.get(schedule["scheduler"]).TORCH
    try:
        return load_impl(spec)(optimizer, **schedule["hp"])
    except Exception as error:
        raise SetupError(f"the case attaches torch's {spec.rpartition(':')[2]}({_shown(schedule['hp'])}), which "
                         f"could not be built on the implementation: {type(error).__name__}: {error}") from None


def _shown(hp):
    return ", ".join(f"{k}={v}" for k, v in hp.items())


def sparse_with_repeats(dense):
    """A sparse COO gradient holding the nonzeros of ``dense``, uncoalesced: every
    other entry is split into two halves at the same index (halving is exact), as
    an embedding that looks up the same row twice produces."""
    index = dense.nonzero(as_tuple=False)
    values = dense[tuple(index.t())]
    repeat = torch.arange(len(values), device=dense.device) % 2 == 0
    values = torch.cat([torch.where(repeat, values / 2, values), values[repeat] / 2])
    index = torch.cat([index, index[repeat]])
    return torch.sparse_coo_tensor(index.t(), values, dense.shape)
