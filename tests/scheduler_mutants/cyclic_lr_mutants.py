"""CyclicLR with one bug per class."""
import math

from torch.optim.lr_scheduler import CyclicLR


class CyclicTriangular2Scale(CyclicLR):
    """triangular2 halves the amplitude from the first cycle on: 1 / 2^cycle instead of 1 / 2^(cycle - 1)."""
    variant = "triangular2_halved_early"

    @staticmethod
    def _triangular2_scale_fn(x):
        return 1 / (2.0 ** x)  # BUG: 2.0 ** (x - 1)


class CyclicMomentumInPhase(CyclicLR):
    """Momentum rises with the lr instead of falling."""
    variant = "momentum_in_phase"

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale_factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base_m, max_m in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                momentum = base_m + (max_m - base_m) * scale_factor * scale  # BUG: max_m - (max_m - base_m) * ...
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs


class CyclicStepSizeDownIgnored(CyclicLR):
    """step_size_down dropped: every cycle is symmetric."""
    variant = "step_size_down_ignored"

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, **kwargs):
        super().__init__(optimizer, base_lr, max_lr, step_size_up, None, **kwargs)  # BUG: step_size_down


class CyclicExpRangePerCycle(CyclicLR):
    """exp_range scaled per cycle (gamma ** cycle) instead of per iteration."""
    variant = "exp_range_per_cycle"

    def _init_scale_fn(self):
        super()._init_scale_fn()
        if self._scale_fn_custom is None and self.mode == "exp_range":
            self.scale_mode = "cycle"  # BUG: "iterations"


REFERENCE = "cyclic_lr"
MUTANTS = [CyclicTriangular2Scale, CyclicMomentumInPhase, CyclicStepSizeDownIgnored, CyclicExpRangePerCycle]
