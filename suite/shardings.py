"""How one rank holds a sharded optimizer: one class per sharding, run inside each rank (optgold.ranks).

Every sharding has the same small protocol, which the rank's loop calls:

    Sharding(factory, hyperparameters, tensors, groups, schedule, order, rank, world)
        builds IMPL over this rank's view of the parameters (``tensors``: full float tensors,
        every rank the same values; given to IMPL in ``order``, tensor numbers, where set);
        raises what IMPL raises
    step(grads, absent)     .grad of each tensor from its full (reduced) gradient, as the engine
                            holds it on this rank; None for the tensors in ``absent``; one step
    local()                 (params, state): what this rank holds, as View rows (state_names set)
    set_lr(lr), hyperparameter_groups()
    save(directory), load(directory)  the optimizer's and scheduler's state through files, as a
                            checkpoint written with one world size and read with another

The gradients are the reduced ones a data-parallel backward leaves (DDP's average, FSDP's
reduce-scatter): the golden gradient, of this rank's shard. SHARDINGS is the registry.
"""
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


def _flat(value):
    return value.detach().to("cpu", torch.float64).reshape(-1).numpy().copy()


class _Sharding:
    state_names = ()

    def __init__(self, factory, hyperparameters, tensors, groups, schedule, order, rank, world):
        self.rank, self.world, self.schedule = rank, world, schedule
        self.shapes = [tuple(t.shape) for t in tensors]
        self.params = self._shard(tensors)
        specs = [{"params": [self.params[k] for k in g["tensors"]], **g["hp"]} for g in groups] or [
            self.params[k] for k in (order or range(len(self.params)))]
        self.optimizer = self._optimizer(factory, specs, hyperparameters)
        from optgold.adapters.eager import _hyperparameter_groups, make_scheduler

        self.built_groups = _hyperparameter_groups(self.optimizer)
        self.scheduler = make_scheduler(self.optimizer, schedule) if schedule else None

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


class Zero(_Sharding):
    """torch.distributed.optim.ZeroRedundancyOptimizer: every rank keeps every parameter, and the
    optimizer state of its own partition of them (whole tensors, assigned greedily by size); after
    its step each rank broadcasts its partition's parameters. IMPL is the optimizer it wraps, or,
    where IMPL is a ZeroRedundancyOptimizer subclass, the sharded optimizer itself. The state_dict
    is consolidated on rank 0, saved from there and loaded whole on every rank."""
    NAME = "zero"
    DESCRIPTION = "torch.distributed.optim.ZeroRedundancyOptimizer wrapping IMPL (state sharded by tensor)"

    def _shard(self, tensors):
        return [torch.nn.Parameter(t.clone()) for t in tensors]

    def _optimizer(self, factory, specs, hyperparameters):
        from torch.distributed.optim import ZeroRedundancyOptimizer

        if isinstance(factory, type) and issubclass(factory, ZeroRedundancyOptimizer):
            return factory(specs, **hyperparameters)
        return ZeroRedundancyOptimizer(specs, optimizer_class=factory, **hyperparameters)

    def _local(self, p):
        return p

    def _gradient(self, k, full):
        return full

    def _state_of(self, p):
        return getattr(self.optimizer, "optim", self.optimizer).state.get(p, {})

    def _param_view(self, k, p):
        return View("full", _flat(p))

    def _value_view(self, k, p, value):
        if isinstance(value, torch.Tensor) and value.dim():
            return View("full", _flat(value))
        return View("same", _flat(torch.as_tensor(value)))

    def owners(self):
        """The rank that updates each tensor."""
        ranks = getattr(self.optimizer, "_param_to_rank", {})
        return [ranks.get(p) for p in self.params]

    def save(self, directory):
        self.optimizer.consolidate_state_dict(to=0)
        if self.rank == 0:
            torch.save(self.optimizer.state_dict(), f"{directory}/{STATE_FILE}")
        self.save_scheduler(directory)

    def load(self, directory):
        self.optimizer.load_state_dict(torch.load(f"{directory}/{STATE_FILE}", weights_only=True))
        self.load_scheduler(directory)


class Fsdp2(_Sharding):
    """fully_shard (FSDP2): each parameter is a DTensor sharded on dim 0 across the ranks (torch.chunk's
    split: ceil(rows / world) rows each, the last ranks shorter or empty), and IMPL steps the shards.
    State that is a DTensor sharded as its parameter is read shard by shard; any other DTensor is
    gathered with full_tensor(); a plain tensor shaped like this rank's shard is taken as its shard. Checkpoints go through torch.distributed.checkpoint (get/set_optimizer_
    state_dict, dcp.save/load), which reshards them for another world size. fully_shard refuses 0-dim
    parameters, so a 0-dim tensor is held as shape (1,)."""
    NAME = "fsdp2"
    DESCRIPTION = "fully_shard (FSDP2, DTensor sharded on dim 0), IMPL built over the sharded parameters"

    def _shard(self, tensors):
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        self.mesh = init_device_mesh("cpu", (self.world,))
        self.module = torch.nn.Module()
        for k, t in enumerate(tensors):
            self.module.register_parameter(f"p{k}", torch.nn.Parameter(t.clone().reshape(t.shape or (1,))))
        fully_shard(self.module, mesh=self.mesh)
        return [getattr(self.module, f"p{k}") for k in range(len(tensors))]

    def _optimizer(self, factory, specs, hyperparameters):
        return factory(specs, **hyperparameters)

    def rows(self, k):
        """(start, stop) of dim 0 that this rank holds of tensor ``k``."""
        n = (self.shapes[k] or (1,))[0]
        size = -(-n // self.world)
        return min(self.rank * size, n), min((self.rank + 1) * size, n)

    def _local(self, p):
        return p.to_local()

    def _gradient(self, k, full):
        from torch.distributed.tensor import DTensor

        p, (start, stop) = self.params[k], self.rows(k)
        local = full.reshape(p.shape)[start:stop].contiguous()
        return DTensor.from_local(local, self.mesh, p.placements, shape=p.shape, stride=p.stride())

    def _param_view(self, k, p):
        return View("rows", _flat(p.to_local()), *self.rows(k))

    def _value_view(self, k, p, value):
        from torch.distributed.tensor import DTensor

        if isinstance(value, DTensor):  # shards laid out as the parameter's are read where they are
            if value.placements == p.placements and value.shape == p.shape:
                return View("rows", _flat(value.to_local()), *self.rows(k))
            return View("full", _flat(value.full_tensor()))
        if isinstance(value, torch.Tensor) and value.dim() and tuple(value.shape) == tuple(p.to_local().shape):
            return View("rows", _flat(value), *self.rows(k))
        return View("same", _flat(torch.as_tensor(value)))

    def owners(self):
        return [None] * len(self.params)

    def save(self, directory):
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        dcp.save({"optimizer": get_optimizer_state_dict(self.module, self.optimizer)}, checkpoint_id=directory)
        self.save_scheduler(directory)

    def load(self, directory):
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict

        held = {"optimizer": get_optimizer_state_dict(self.module, self.optimizer)}
        dcp.load(held, checkpoint_id=directory)
        set_optimizer_state_dict(self.module, self.optimizer, held["optimizer"])
        self.load_scheduler(directory)


SHARDINGS = {s.NAME: s for s in (Zero, Fsdp2)}
