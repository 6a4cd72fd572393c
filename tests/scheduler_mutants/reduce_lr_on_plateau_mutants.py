"""ReduceLROnPlateau with one bug per class."""
from torch.optim.lr_scheduler import ReduceLROnPlateau


class _Stepping(ReduceLROnPlateau):
    """torch's step, spelled out so that mutants can change one line of it."""

    def step(self, metrics, epoch=None):
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self._should_reduce():
            self._reduce_lr(self.last_epoch)
            self.cooldown_counter = self._cooldown_after_reduction()
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _should_reduce(self):
        return self.num_bad_epochs > self.patience

    def _cooldown_after_reduction(self):
        return self.cooldown


class ROPCooldownNotReset(_Stepping):
    """The cooldown counter is not reset after a reduction, so cooldown never starts."""
    variant = "cooldown_ineffective"

    def _cooldown_after_reduction(self):
        return 0  # BUG: self.cooldown


class ROPThresholdModesSwapped(_Stepping):
    """threshold_mode rel and abs swapped."""
    variant = "threshold_modes_swapped"

    def _is_better(self, a, best):
        relative = self.threshold_mode == "abs"  # BUG: == "rel"
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if relative else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if relative else a > best + self.threshold


class ROPPatienceOffByOne(_Stepping):
    """Reduces once num_bad_epochs reaches patience, one bad epoch early."""
    variant = "patience_off_by_one"

    def _should_reduce(self):
        return self.num_bad_epochs >= self.patience  # BUG: >


class ROPMinLrGroup0(ReduceLROnPlateau):
    """Every param group is clamped at group 0's min_lr."""

    def _reduce_lr(self, epoch):
        for param_group in self.optimizer.param_groups:
            old_lr = float(param_group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[0])  # BUG: self.min_lrs[i]
            if old_lr - new_lr > self.eps:
                param_group["lr"] = new_lr


class ROPEpsIgnored(ReduceLROnPlateau):
    """Every reduction is applied, however small."""
    variant = "eps_ignored"

    def _reduce_lr(self, epoch):
        for i, param_group in enumerate(self.optimizer.param_groups):
            old_lr = float(param_group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > 0:  # BUG: > self.eps
                param_group["lr"] = new_lr


REFERENCE = "reduce_lr_on_plateau"
MUTANTS = [ROPCooldownNotReset, ROPThresholdModesSwapped, ROPPatienceOffByOne, ROPMinLrGroup0, ROPEpsIgnored]
