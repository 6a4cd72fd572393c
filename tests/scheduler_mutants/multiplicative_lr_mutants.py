"""MultiplicativeLR with one bug per class."""
from torch.optim.lr_scheduler import MultiplicativeLR


class MultiplicativeLRAtConstruction(MultiplicativeLR):
    """The initial step (construction) applies lr_lambda(0) too."""
    variant = "applied_at_construction"

    def get_lr(self):
        # BUG: torch returns the lrs unchanged when self._is_initial
        return [group["lr"] * lmbda(self.last_epoch)
                for lmbda, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class MultiplicativeLRFromBase(MultiplicativeLR):
    """Multiplies the base lr instead of the current lr (LambdaLR's rule)."""
    variant = "from_base_lr"

    def get_lr(self):
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [base_lr * lmbda(self.last_epoch)  # BUG: group["lr"] * lmbda(...)
                for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


REFERENCE = "multiplicative_lr"
MUTANTS = [MultiplicativeLRAtConstruction, MultiplicativeLRFromBase]
