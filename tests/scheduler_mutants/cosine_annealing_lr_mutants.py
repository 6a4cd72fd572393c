"""CosineAnnealingLR with one bug per class."""
import math

from torch.optim.lr_scheduler import CosineAnnealingLR


class CosineAnnealingTMaxPlusOne(CosineAnnealingLR):
    """Closed form with period T_max + 1: the minimum is reached one step late."""
    variant = "t_max_plus_one"

    def get_lr(self):
        period = self.T_max + 1  # BUG: self.T_max
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / period)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingRatioWithoutEtaMin(CosineAnnealingLR):
    """The chainable ratio scales the lr itself instead of lr - eta_min."""
    variant = "ratio_without_eta_min"

    def get_lr(self):
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups)]
        ratio = ((1 + math.cos(math.pi * self.last_epoch / self.T_max))
                 / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)))
        return [ratio * group["lr"] for group in self.optimizer.param_groups]  # BUG: (lr - eta_min) ... + eta_min


class CosineAnnealingClampedAfterTMax(CosineAnnealingLR):
    """Holds eta_min after T_max instead of following the cosine back up."""
    variant = "clamped_after_t_max"

    def get_lr(self):
        epoch = min(self.last_epoch, self.T_max)  # BUG: self.last_epoch
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


REFERENCE = "cosine_annealing_lr"
MUTANTS = [CosineAnnealingTMaxPlusOne, CosineAnnealingRatioWithoutEtaMin, CosineAnnealingClampedAfterTMax]
