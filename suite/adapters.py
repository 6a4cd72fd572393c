"""How to drive an implementation under test.

An adapter takes flat float64 gradients, one step at a time, and exposes the flat
float64 parameters and any torch-named state. New kinds of implementation
(functional, distributed, compiled) plug in by providing the same three methods.
"""
import numpy as np
import torch

DTYPES = {"float64": torch.float64, "float32": torch.float32}


class TorchOptimizerAdapter:
    """A torch.optim.Optimizer (or a factory returning one), fed through ``.grad``.

    Gradients are copied into the existing ``.grad`` tensors, as backward() does with
    retained gradients, so an optimizer that aliases a gradient instead of copying it
    is caught.
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
        params = [{"params": [self.params[k] for k in g["tensors"]], **g["hp"]} for g in groups] or self.params
        self.optimizer = factory(params, **hyperparameters)
        self.scheduler = make_scheduler(self.optimizer, schedule) if schedule else None

    def _write_grads(self, flat_grad):
        grad = torch.tensor(flat_grad, dtype=torch.float64)  # a copy: the golden arrays stay untouched
        offset = 0
        for p in self.params:
            g = grad[offset:offset + p.numel()].reshape(p.shape).to(dtype=p.dtype, device=p.device)
            if self.sparse:
                p.grad = sparse_with_repeats(g)
            elif p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.copy_(g)
            offset += p.numel()

    def step(self, flat_grad):
        self._write_grads(flat_grad)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def step_closure(self, evaluate):
        """For optimizers that re-evaluate (LBFGS): evaluate(flat float64 params) -> (loss, flat grad)."""
        def closure():
            loss, grad = evaluate(self.flat_params())
            self._write_grads(grad)
            return torch.tensor(float(loss), dtype=self.params[0].dtype, device=self.params[0].device)

        self.optimizer.step(closure)

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


def make_scheduler(optimizer, schedule):
    """torch's own scheduler for a reference scheduler name (checked on its own by
    `optgold check --reference <scheduler>`), driving the optimizer under test."""
    from optgold.reference import schedulers
    from optgold.loading import load_impl

    return load_impl(schedulers.get(schedule["scheduler"]).TORCH)(optimizer, **schedule["hp"])


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
