"""ExponentialLR with one bug per class."""
import torch
from torch.optim.lr_scheduler import ExponentialLR


class ExponentialLRDecayAtConstruction(ExponentialLR):
    """The initial step (construction) decays too."""
    variant = "decay_at_construction"

    def get_lr(self):
        # BUG: torch returns the lrs unchanged when self._is_initial
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class ExponentialLRGroup0(ExponentialLR):
    """Every param group gets group 0's decayed lr."""

    def get_lr(self):
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [self.optimizer.param_groups[0]["lr"] * self.gamma  # BUG: group["lr"]
                for group in self.optimizer.param_groups]


class ExponentialLRFloat32(ExponentialLR):
    """The lr is computed in the parameters' dtype (float32) instead of a Python float: rounding of 6e-8
    relative, far above the float64 rounding the schedule may carry."""

    def get_lr(self):
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [float(torch.tensor(group["lr"], dtype=torch.float32) * self.gamma)  # BUG: group["lr"] * self.gamma
                for group in self.optimizer.param_groups]


REFERENCE = "exponential_lr"
MUTANTS = [ExponentialLRDecayAtConstruction, ExponentialLRGroup0, ExponentialLRFloat32]
