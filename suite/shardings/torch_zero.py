"""torch.distributed.optim.ZeroRedundancyOptimizer as a sharding."""
import torch

from optgold.shardings.base import STATE_FILE, Sharding, View, flat


class Zero(Sharding):
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
        return View("full", flat(p))

    def _value_view(self, k, p, value):
        if isinstance(value, torch.Tensor) and value.dim():
            return View("full", flat(value))
        return View("same", flat(torch.as_tensor(value)))

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
