"""SequentialLR with one bug per class."""
from bisect import bisect_left, bisect_right

from torch.optim.lr_scheduler import SequentialLR


class SequentialLRSwitchOneLate(SequentialLR):
    """Each scheduler takes over one step after its milestone."""
    variant = "switch_one_late"

    def step(self):
        self.last_epoch += 1
        idx = bisect_left(self._milestones, self.last_epoch)  # BUG: bisect_right
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class SequentialLRContinueAtMilestone(SequentialLR):
    """At a milestone the next scheduler steps on from the current lr instead of restarting."""
    variant = "continue_at_milestone"

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        scheduler.step()  # BUG: scheduler._update_lr(0) at a milestone
        self._last_lr = scheduler.get_last_lr()


class SequentialLRNoReset(SequentialLR):
    """The lrs the sub-schedulers' construction left are not reset to initial_lr (torch <= 1.11),
    so the first scheduler's initial step applies twice."""
    variant = "construction_not_undone"

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # BUG: missing: for group in optimizer.param_groups: group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()


REFERENCE = "sequential_lr"
MUTANTS = [SequentialLRSwitchOneLate, SequentialLRContinueAtMilestone, SequentialLRNoReset]
