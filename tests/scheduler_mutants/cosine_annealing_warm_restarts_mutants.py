"""CosineAnnealingWarmRestarts with one bug per class (stepping without an epoch)."""
import math

from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts


class _Stepping(CosineAnnealingWarmRestarts):
    """torch's step() without an epoch, spelled out so that mutants can change one line of it."""

    def step(self, epoch=None):
        if epoch is not None or self.last_epoch < 0:
            return super().step(epoch)
        self.last_epoch += 1
        self.T_cur = self.T_cur + 1
        if self._restarts():
            self.T_cur = self.T_cur - self.T_i
            self.T_i = self._next_period()
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _restarts(self):
        return self.T_cur >= self.T_i

    def _next_period(self):
        return self.T_i * self.T_mult


class WarmRestartsTMultIgnored(_Stepping):
    """Every period lasts T_0 steps: T_mult ignored."""
    variant = "t_mult_ignored"

    def _next_period(self):
        return self.T_0  # BUG: self.T_i * self.T_mult


class WarmRestartsRestartOneLate(_Stepping):
    """Restarts when T_cur exceeds T_i, one step late."""
    variant = "restart_one_late"

    def _restarts(self):
        return self.T_cur > self.T_i  # BUG: >=


REFERENCE = "cosine_annealing_warm_restarts"
MUTANTS = [WarmRestartsTMultIgnored, WarmRestartsRestartOneLate]
