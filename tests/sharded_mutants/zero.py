"""ZeroRedundancyOptimizer over torch.optim.Adam, and the bugs sharded checkpoints and set-up have shipped with."""
import torch
import torch.distributed as dist
from torch.distributed.optim import ZeroRedundancyOptimizer


class Zero(ZeroRedundancyOptimizer):
    """Correct: torch's ZeroRedundancyOptimizer over Adam, unchanged."""

    def __init__(self, params, optimizer_class=torch.optim.Adam, **defaults):
        super().__init__(params, optimizer_class=optimizer_class, **defaults)


class StateOfRankZeroOnly(Zero):
    """The checkpoint holds the state of rank 0's partition only: the other ranks' tensors resume from none."""

    def state_dict(self):
        self._all_state_dicts = self._all_state_dicts[:1]  # BUG: every rank's partition belongs in it
        return super().state_dict()


class StepAtConstruction(Zero):
    """The state is made by a step on zero gradients at construction, which counts as a step (DeepSpeed PR #5104)."""

    def __init__(self, params, optimizer_class=torch.optim.Adam, **defaults):
        super().__init__(params, optimizer_class=optimizer_class, **defaults)
        for group in self.optim.param_groups:
            for p in group["params"]:
                p.grad = torch.zeros_like(p)
        lrs = [group["lr"] for group in self.optim.param_groups]
        for group in self.optim.param_groups:
            group["lr"] = 0.0
        self.optim.step()  # BUG: a step, and Adam's step count with it, before any gradient
        for group, lr in zip(self.optim.param_groups, lrs):
            group["lr"] = lr
            for p in group["params"]:
                p.grad = None


class ReloadsItsOwnRankFile(Zero):
    """A sharded checkpoint: each rank saves its own optimizer's state and reloads the one saved under its rank
    number. With as many ranks as saved it resumes; with another number, ranks get other tensors' state."""

    def state_dict(self):
        return {"per_rank": [s for s in self._all_state_dicts], "param_groups": super().state_dict()["param_groups"]}

    def load_state_dict(self, state_dict):
        saved = state_dict["per_rank"]
        self.optim.load_state_dict(saved[self.rank % len(saved)])  # BUG: the partitions move with the world size


class GradientsReducedTwice(Zero):
    """The step all-reduces the gradients the data-parallel backward already averaged (DDP and a ZeRO-2-style
    wrapper both reducing): each gradient is multiplied by the number of ranks."""

    def step(self, closure=None, **kwargs):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    dist.all_reduce(p.grad)  # BUG: already reduced; a second SUM scales it by the world size
        return super().step(closure, **kwargs)


class PartitionNotBroadcast(Zero):
    """Each rank updates its own partition and never sends it: the other ranks keep stale copies of it."""

    def _sync_params(self):
        pass  # BUG: every rank's partition must be broadcast to the others after the step
