"""The implementation trained on its own: the loss curve a user would see, beside the golden's. Not judged.

The replay judges the update; this shows its effect. IMPL trains the network from the
golden's start on the same batches and learning rates, with gradients of its own
parameters in its own dtype, as a training script would. A free run of a network
drifts from any golden by rounding alone, so nothing here passes or fails a case:
the curves and final accuracies are for reading, and a bug that the replay found
usually shows up here as a loss curve that parts from the golden's.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import model
from optgold.check import drive
from optgold.kinds.base import Run
from optgold.kinds.optimizer import case_hyperparameters
from optgold.runner import DTYPES, default_dtype


@dataclass
class FreeRun:
    loss: list  # the batch loss at IMPL's own parameters before each step
    evaluation: dict = None  # {"train"|"test": {"loss", "accuracy"}} of its final parameters
    message: str = ""  # why it stopped early, if it did

    def as_json(self):
        return {"loss": self.loss, "evaluation": self.evaluation, "message": self.message}


def free_run(factory, case, data, dtype="float32", device="cpu", impl_args=None, progress=None):
    """Train IMPL freely along ``case``; ``progress(case, step)`` after each step. Driven as a judged run
    is (optgold.check.drive: a raise or a non-finite loss ends it at its step; the parent process's
    per-step limit, reset by ``progress``, ends a hang), but judged by no one."""
    run = _Training(factory, case, data, dtype, device, impl_args, progress)
    with default_dtype(dtype):
        failure = drive(run)
    if failure:
        return FreeRun(run.losses, message=failure.message)
    final = [p.detach().to("cpu", torch.float64).numpy() for p in run.params]
    return FreeRun(run.losses, model.evaluate_run(final, run.data))


class _Training(Run):
    def __init__(self, factory, case, data, dtype, device, impl_args, progress):
        self.factory, self.case, self.dtype, self.device = factory, case, DTYPES[dtype], device
        self.impl_args, self.progress, self.losses = impl_args, progress, []
        self.data = cifar_data.run_data(data, case.batch_size, case.steps, case.order_seed, case.eval_size)

    def construct(self):
        self.params = [torch.tensor(p, dtype=self.dtype, device=self.device).requires_grad_(True)
                       for p in self.case.start()]
        self.hyperparameters = case_hyperparameters(self.case, self.factory, self.impl_args)
        self.optimizer = self.factory(self.params, **self.hyperparameters)

    def steps(self):
        for t in range(self.case.steps):
            images, labels = self.data.batch(t)
            for group in self.optimizer.param_groups:
                group["lr"] = float(self.case.lr[t])
            self.optimizer.zero_grad()
            x = torch.tensor(images, dtype=self.dtype, device=self.device)
            loss = F.cross_entropy(model.logits(self.params, x), torch.tensor(labels, device=self.device))
            loss.backward()
            self.optimizer.step()
            self.losses.append(float(loss.detach()))
            if self.progress:
                self.progress(self.case, t + 1)
            yield self.losses[-1]


def plot(results, path, data_description):
    """One panel per case: the golden's batch loss and IMPL's free-run loss, with a 20-step moving average."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [c for c in results if c.details.get("free_run") is not None]
    figure, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 3.8), squeeze=False)
    for axis, case in zip(axes[0], cases):
        for label, loss, colour in (("golden", case.details["golden_loss"], "black"),
                                    ("implementation, free run", case.details["free_run"]["loss"], "tab:red")):
            steps = np.arange(1, len(loss) + 1)
            axis.plot(steps, loss, color=colour, alpha=0.25, linewidth=0.7, label=f"{label}, per step")
            if len(loss) >= 20:
                smooth = np.convolve(loss, np.ones(20) / 20, mode="valid")
                axis.plot(steps[19:], smooth, color=colour, label=f"{label}, 20-step mean")
        axis.set_title(case.id)
        axis.set_xlabel("step")
        axis.set_ylabel("batch loss")
        axis.legend(fontsize=8)
    figure.suptitle(data_description, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
