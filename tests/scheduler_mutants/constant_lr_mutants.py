"""ConstantLR with one bug per class."""
from torch.optim.lr_scheduler import ConstantLR


class ConstantLRRestoreOneLate(ConstantLR):
    """The lr is restored one step after total_iters."""
    variant = "restore_one_late"

    def get_lr(self):
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters + 1:  # BUG: self.total_iters
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]


class ConstantLRRestoreMultiplies(ConstantLR):
    """At total_iters the lr is multiplied by factor again instead of divided by it."""

    def get_lr(self):
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.factor for group in self.optimizer.param_groups]  # BUG: * (1.0 / self.factor)


REFERENCE = "constant_lr"
MUTANTS = [ConstantLRRestoreOneLate, ConstantLRRestoreMultiplies]
