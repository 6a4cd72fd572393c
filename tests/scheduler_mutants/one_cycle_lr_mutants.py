"""OneCycleLR with one bug per class."""
from torch.optim.lr_scheduler import OneCycleLR


class OneCyclePhaseEndOffByOne(OneCycleLR):
    """The warm-up ends at pct_start * total_steps instead of pct_start * total_steps - 1."""
    variant = "phase_end_off_by_one"

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 **kwargs):
        super().__init__(optimizer, max_lr, total_steps, epochs, steps_per_epoch, pct_start, **kwargs)
        self._schedule_phases[0]["end_step"] = float(pct_start * self.total_steps)  # BUG: ... - 1


class OneCycleMinLrFromMaxLr(OneCycleLR):
    """The final lr is max_lr / final_div_factor instead of initial_lr / final_div_factor."""
    variant = "min_lr_from_max_lr"

    def __init__(self, optimizer, max_lr, *args, final_div_factor=1e4, **kwargs):
        super().__init__(optimizer, max_lr, *args, final_div_factor=final_div_factor, **kwargs)
        for group in self.optimizer.param_groups:
            group["min_lr"] = group["max_lr"] / final_div_factor  # BUG: group["initial_lr"] / final_div_factor


class OneCycleMomentumNotInverted(OneCycleLR):
    """Each phase anneals momentum from its end value to its start value: momentum follows the lr."""
    variant = "momentum_not_inverted"

    def get_lr(self):
        lrs = []
        step_num = self.last_epoch
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal_func(group[phase["end_momentum"]], group[phase["start_momentum"]],
                                                     pct)  # BUG: from start_momentum to end_momentum
                        if self.use_beta1:
                            group["betas"] = (momentum, *group["betas"][1:])
                        else:
                            group["momentum"] = momentum
                    break
                start_step = phase["end_step"]
        return lrs


REFERENCE = "one_cycle_lr"
MUTANTS = [OneCyclePhaseEndOffByOne, OneCycleMinLrFromMaxLr, OneCycleMomentumNotInverted]
