"""SWALR with one bug per class."""
from torch.optim.swa_utils import SWALR


class _Annealing(SWALR):
    """torch's get_lr, spelled out so that mutants can change one line of it."""

    def get_lr(self):
        step = self._step()
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], self._swa_lr(group), prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [self._swa_lr(group) * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _step(self):
        return self._step_count - 1

    def _swa_lr(self, group):
        return group["swa_lr"]


class SWALRAnnealOneLate(_Annealing):
    """The anneal counts from the first step() instead of from construction."""
    variant = "anneal_one_late"

    def _step(self):
        return self._step_count - 2  # BUG: self._step_count - 1


class SWALRCosineIsLinear(SWALR):
    """Anneal mismatch: the cos strategy anneals linearly."""
    variant = "strategy_swapped"

    @staticmethod
    def _cosine_anneal(t):
        return t  # BUG: (1 - math.cos(math.pi * t)) / 2


class SWALRGroup0SwaLr(_Annealing):
    """Every param group anneals to group 0's swa_lr."""

    def _swa_lr(self, group):
        return self.optimizer.param_groups[0]["swa_lr"]  # BUG: group["swa_lr"]


REFERENCE = "swalr"
MUTANTS = [SWALRAnnealOneLate, SWALRCosineIsLinear, SWALRGroup0SwaLr]
