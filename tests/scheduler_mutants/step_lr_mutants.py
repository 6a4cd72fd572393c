"""StepLR with one bug per class."""
from torch.optim.lr_scheduler import StepLR


class StepLRDecayOneEarly(StepLR):
    """Decays at the wrong boundary: one step before each multiple of step_size."""
    variant = "decay_one_early"

    def get_lr(self):
        if self.last_epoch == 0 or (self.last_epoch + 1) % self.step_size != 0:  # BUG: self.last_epoch % ...
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class StepLRGroup0(StepLR):
    """Every param group gets group 0's decayed lr."""

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [self.optimizer.param_groups[0]["lr"] * self.gamma  # BUG: group["lr"]
                for group in self.optimizer.param_groups]


REFERENCE = "step_lr"
MUTANTS = [StepLRDecayOneEarly, StepLRGroup0]
