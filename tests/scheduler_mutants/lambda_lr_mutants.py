"""LambdaLR with one bug per class."""
from torch.optim.lr_scheduler import LambdaLR


class LambdaLRNextEpoch(LambdaLR):
    """lr_lambda evaluated at the next epoch: the epoch counted from 1."""
    variant = "lambda_of_next_epoch"

    def get_lr(self):
        return [base_lr * lmbda(self.last_epoch + 1)  # BUG: lmbda(self.last_epoch)
                for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class LambdaLRFirstLambdaForAll(LambdaLR):
    """Group 0's lr_lambda used for every param group."""
    variant = "first_lambda_for_all"

    def get_lr(self):
        return [base_lr * self.lr_lambdas[0](self.last_epoch)  # BUG: each group's own lambda
                for base_lr in self.base_lrs]


class LambdaLRGroup0BaseLr(LambdaLR):
    """Group 0's base lr used for every param group."""

    def get_lr(self):
        return [self.base_lrs[0] * lmbda(self.last_epoch)  # BUG: each group's own base_lr
                for lmbda in self.lr_lambdas]


REFERENCE = "lambda_lr"
MUTANTS = [LambdaLRNextEpoch, LambdaLRFirstLambdaForAll, LambdaLRGroup0BaseLr]
