"""PolynomialLR with one bug per class."""
from torch.optim.lr_scheduler import PolynomialLR


class PolynomialLRNoPower(PolynomialLR):
    """The chainable ratio is not raised to power."""
    variant = "power_ignored"

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return [group["lr"] for group in self.optimizer.param_groups]
        decay_factor = ((1.0 - self.last_epoch / self.total_iters)
                        / (1.0 - (self.last_epoch - 1) / self.total_iters))  # BUG: ** self.power missing
        return [group["lr"] * decay_factor for group in self.optimizer.param_groups]


class PolynomialLRTotalItersPlusOne(PolynomialLR):
    """Closed form over total_iters + 1 steps: never reaches zero."""
    variant = "decay_over_total_iters_plus_one"

    def get_lr(self):
        total = self.total_iters + 1  # BUG: self.total_iters
        return [base_lr * (1.0 - min(total, self.last_epoch) / total) ** self.power for base_lr in self.base_lrs]


REFERENCE = "polynomial_lr"
MUTANTS = [PolynomialLRNoPower, PolynomialLRTotalItersPlusOne]
