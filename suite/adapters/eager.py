"""The eager torch adapter: a torch.optim.Optimizer, or a factory returning one (optgold.adapters' protocol)."""
import numpy as np
import torch

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
                 groups=(), schedule=None):
        """``groups``: ({"tensors": [...], "hp": {overrides}}, ...) become torch param groups.
        ``schedule``: {"scheduler": reference name, "hp": {...}}: torch's scheduler of that name
        is stepped after every optimizer step."""
        self.params, offset = [], 0
        for shape in shapes:
            n = int(np.prod(shape))
            chunk = torch.tensor(start[offset:offset + n], dtype=torch.float64).reshape(shape)
            self.params.append(chunk.to(dtype=DTYPES[dtype], device=device))
            offset += n
        self.shapes, self.sparse, self.state_on_first = shapes, sparse, state_on_first
        self.factory, self.hyperparameters, self.groups, self.schedule = factory, hyperparameters, groups, schedule
        self.optimizer, self.scheduler = self._build()

    def _build(self):
        params = [{"params": [self.params[k] for k in g["tensors"]], **g["hp"]} for g in self.groups] or self.params
        optimizer = self.factory(params, **self.hyperparameters)
        if not callable(getattr(optimizer, "step", None)):
            raise NotAnOptimizer(f"IMPL returned {type(optimizer).__name__}, not an optimizer (it has no step()): the "
                                 "torch adapter needs a torch.optim.Optimizer, or a factory returning one")
        self._built_groups = _hyperparameter_groups(optimizer)  # before a scheduler moves the lr
        scheduler = make_scheduler(optimizer, self.schedule) if self.schedule else None
        return optimizer, scheduler

    def restart(self):
        """As a job restarted from a checkpoint: fresh parameter tensors holding the same values, a
        fresh optimizer (and scheduler) from the same factory, then their saved state_dicts loaded.
        The state dicts go through a deep copy, as through a file: nothing stays shared."""
        import copy

        saved = copy.deepcopy(self.optimizer.state_dict())
        saved_scheduler = copy.deepcopy(self.scheduler.state_dict()) if self.scheduler is not None else None
        self.params = [p.detach().clone() for p in self.params]
        self.optimizer, self.scheduler = self._build()
        self.optimizer.load_state_dict(saved)
        if saved_scheduler is not None:
            self.scheduler.load_state_dict(saved_scheduler)

    def _write_grads(self, flat_grad):
        grad = torch.tensor(flat_grad, dtype=torch.float64)  # a copy: the golden arrays stay untouched
        offset, self._given = 0, []
        for p in self.params:
            g = grad[offset:offset + p.numel()].reshape(p.shape).to(dtype=p.dtype, device=p.device)
            if self.sparse:
                p.grad = sparse_with_repeats(g)
            elif p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.copy_(g)
            self._given.append(p.grad.detach().clone())
            offset += p.numel()

    def _check_grads_kept(self):
        """ContractBreach if the step changed a ``.grad`` it was given."""
        from optgold.check import ContractBreach

        for k, (p, given) in enumerate(zip(self.params, self._given)):
            now = p.grad
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
                                     f"{list(where)} was given {float(dense_given[where]):.17g} and is "
                                     f"{float(dense_now[where]):.17g} after the step ({int(changed.sum())} of "
                                     f"{changed.numel()} elements changed); a step must leave .grad as it was given")

    def step(self, flat_grad):
        self._write_grads(flat_grad)
        self.optimizer.step()
        self._check_grads_kept()
        if self.scheduler is not None:
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
        return torch.cat([p.detach().reshape(-1).to("cpu", torch.float64) for p in self.params]).numpy()

    def flat_state(self, names):
        """{name: flat float64 values} for each state name every parameter exposes as a tensor
        (any shape: Adafactor's row and column variances are smaller than the parameter)."""
        state = getattr(self.optimizer, "state", {})
        owners = self.params[:1] if self.state_on_first else self.params
        found = {}
        for name in names:
            values = [state.get(p, {}).get(name) if hasattr(state, "get") else None for p in owners]
            if all(isinstance(v, (torch.Tensor, int, float)) and not isinstance(v, bool) for v in values):
                found[name] = np.concatenate([np.asarray(torch.as_tensor(v, dtype=torch.float64 if isinstance(v, (int, float)) else None)
                                                         .detach().to("cpu", torch.float64)).reshape(-1)
                                              for v in values])
        return found

    def step_counts(self):
        """Each parameter's ``step`` state as a number, or None where it is not exposed."""
        state = getattr(self.optimizer, "state", {})
        counts = []
        for p in self.params:
            value = state.get(p, {}).get("step") if hasattr(state, "get") else None
            counts.append(float(value) if isinstance(value, (int, float, torch.Tensor)) else None)
        return counts


def _hyperparameter_groups(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        return None
    return [{k: v for k, v in g.items() if k != "params"} for g in groups]


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
