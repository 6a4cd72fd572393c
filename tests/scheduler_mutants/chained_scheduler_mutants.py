"""ChainedScheduler with one bug per class."""
from torch.optim.lr_scheduler import ChainedScheduler


class ChainedClosedForm(ChainedScheduler):
    """Steps each sub-scheduler with an explicit epoch, which takes its closed form: the last one
    overwrites the others (how chaining broke before torch 1.4)."""
    variant = "closed_form_overwrites"

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step(scheduler.last_epoch + 1)  # BUG: scheduler.step()
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]


class ChainedReverseOrder(ChainedScheduler):
    """Steps the sub-schedulers last to first."""
    variant = "reverse_order"

    def step(self):
        for scheduler in reversed(self._schedulers):  # BUG: in the order given
            scheduler.step()
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]


REFERENCE = "chained_scheduler"
MUTANTS = [ChainedClosedForm, ChainedReverseOrder]
