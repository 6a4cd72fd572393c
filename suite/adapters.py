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

    def __init__(self, factory, hyperparameters, start, shapes, dtype, device):
        self.params, offset = [], 0
        for shape in shapes:
            n = int(np.prod(shape))
            chunk = torch.tensor(start[offset:offset + n], dtype=torch.float64).reshape(shape)
            self.params.append(chunk.to(dtype=DTYPES[dtype], device=device))
            offset += n
        self.shapes = shapes
        self.optimizer = factory(self.params, **hyperparameters)

    def step(self, flat_grad):
        grad = torch.tensor(flat_grad, dtype=torch.float64)  # a copy: the golden arrays stay untouched
        offset = 0
        for p in self.params:
            g = grad[offset:offset + p.numel()].reshape(p.shape).to(dtype=p.dtype, device=p.device)
            if p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.copy_(g)
            offset += p.numel()
        self.optimizer.step()

    def flat_params(self):
        return torch.cat([p.detach().reshape(-1).to("cpu", torch.float64) for p in self.params]).numpy()

    def flat_state(self, names):
        """{name: flat float64 values} for each state name every parameter exposes as a tensor
        (any shape: Adafactor's row and column variances are smaller than the parameter)."""
        state = getattr(self.optimizer, "state", {})
        found = {}
        for name in names:
            values = [state.get(p, {}).get(name) if hasattr(state, "get") else None for p in self.params]
            if all(isinstance(v, torch.Tensor) for v in values):
                found[name] = torch.cat([v.detach().reshape(-1).to("cpu", torch.float64) for v in values]).numpy()
        return found

    def step_counts(self):
        """Each parameter's ``step`` state as a number, or None where it is not exposed."""
        state = getattr(self.optimizer, "state", {})
        counts = []
        for p in self.params:
            value = state.get(p, {}).get("step") if hasattr(state, "get") else None
            counts.append(float(value) if isinstance(value, (int, float, torch.Tensor)) else None)
        return counts
