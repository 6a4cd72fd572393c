"""What every sharding shares (optgold.shardings' protocol): the View of a rank's values, and the base class."""
from dataclasses import dataclass

import numpy as np
import torch

STATE_FILE, SCHEDULER_FILE = "optimizer.pt", "scheduler.pt"


@dataclass
class View:
    """One tensor's values as one rank holds them: ``kind`` "full" (the whole tensor), "rows" (rows
    ``start``..``stop`` of dim 0, this rank's shard) or "same" (a value every rank keeps, a step count)."""
    kind: str
    values: np.ndarray
    start: int = 0
    stop: int = 0


def flat(value):
    return value.detach().to("cpu", torch.float64).reshape(-1).numpy().copy()


class Sharding:
    """What the shardings share: building IMPL over the shards, stepping it, reading what this rank holds."""

    def __init__(self, factory, hyperparameters, tensors, groups, schedule, order, rank, world):
        self.rank, self.world, self.schedule = rank, world, schedule
        self.shapes = [tuple(t.shape) for t in tensors]
        self.params = self._shard(tensors)
        # the tensor numbers in the order IMPL holds them: a checkpoint's state goes by that position
        self.position = [k for g in groups for k in g["tensors"]] or list(order or range(len(self.params)))
        specs = [{"params": [self.params[k] for k in g["tensors"]], **g["hp"]} for g in groups] or [
            self.params[k] for k in self.position]
        self.optimizer = self._optimizer(factory, specs, hyperparameters)
        from optgold.adapters.eager import _hyperparameter_groups, make_scheduler

        self.built_groups = _hyperparameter_groups(self.optimizer)
        self.scheduler = make_scheduler(self.optimizer, schedule) if schedule else None

    def _optimizer(self, factory, specs, hyperparameters):
        """IMPL over the param specs (a sharding that wraps it says how)."""
        return factory(specs, **hyperparameters)

    def step(self, grads, absent=()):
        for k, (p, g) in enumerate(zip(self.params, grads)):
            p.grad = None if k in absent else self._gradient(k, torch.from_numpy(g).reshape(self.shapes[k]).to(
                self._local(p).dtype))
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def step_and_read(self, grads, absent, names):
        self.step(grads, absent)
        return self.local(names)

    def set_lr(self, lr):
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def hyperparameter_groups(self):
        return self.built_groups

    def local(self, names):
        """(a View per tensor, {name: [View or None per tensor]}) of what this rank holds."""
        state = {}
        for name in names:
            views = [self._state_view(k, p, name) for k, p in enumerate(self.params)]
            if any(v is not None for v in views):
                state[name] = views
        return [self._param_view(k, p) for k, p in enumerate(self.params)], state

    def _state_view(self, k, p, name):
        value = self._state_of(p).get(name)
        if not isinstance(value, (torch.Tensor, int, float)) or isinstance(value, bool):
            return None
        return self._value_view(k, p, value)

    def _state_of(self, p):
        return self.optimizer.state.get(p, {})

    def save_scheduler(self, directory):
        if self.scheduler is not None and self.rank == 0:
            torch.save(self.scheduler.state_dict(), f"{directory}/{SCHEDULER_FILE}")

    def load_scheduler(self, directory):
        if self.scheduler is not None:
            self.scheduler.load_state_dict(torch.load(f"{directory}/{SCHEDULER_FILE}", weights_only=True))
