"""LinearLR with one bug per class."""
from torch.optim.lr_scheduler import LinearLR


def _ramp(s, epoch):
    return 1.0 + (s.end_factor - s.start_factor) / (
        s.total_iters * s.start_factor + (epoch - 1) * (s.end_factor - s.start_factor))


class LinearLRFromBase(LinearLR):
    """The chainable factor multiplies the base lr instead of the current lr."""
    variant = "chainable_from_base"

    def get_lr(self):
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [base_lr * _ramp(self, self.last_epoch) for base_lr in self.base_lrs]  # BUG: group["lr"] * ...


class LinearLRDenominatorOffByOne(LinearLR):
    """The chainable factor's denominator uses epoch t instead of t - 1."""

    def get_lr(self):
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [group["lr"] for group in self.optimizer.param_groups]
        factor = _ramp(self, self.last_epoch + 1)  # BUG: _ramp(self, self.last_epoch)
        return [group["lr"] * factor for group in self.optimizer.param_groups]


REFERENCE = "linear_lr"
MUTANTS = [LinearLRFromBase, LinearLRDenominatorOffByOne]
