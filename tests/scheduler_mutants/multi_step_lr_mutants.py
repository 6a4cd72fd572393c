"""MultiStepLR with one bug per class."""
from bisect import bisect_right

from torch.optim.lr_scheduler import MultiStepLR


class MultiStepLRRepeatedOnce(MultiStepLR):
    """A milestone listed twice decays once."""
    variant = "repeated_milestone_once"

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma  # BUG: self.gamma ** self.milestones[self.last_epoch]
                for group in self.optimizer.param_groups]


class MultiStepLRUnsortedBisect(MultiStepLR):
    """Closed form that bisects the milestones as given, assuming they are sorted."""

    def get_lr(self):
        milestones = list(self.milestones.elements())  # BUG: sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class MultiStepLRDecayOneLate(MultiStepLR):
    """Each decay lands one step after its milestone."""
    variant = "decay_one_late"

    def get_lr(self):
        epoch = self.last_epoch - 1  # BUG: self.last_epoch
        if epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma ** self.milestones[epoch] for group in self.optimizer.param_groups]


REFERENCE = "multi_step_lr"
MUTANTS = [MultiStepLRRepeatedOnce, MultiStepLRUnsortedBisect, MultiStepLRDecayOneLate]
