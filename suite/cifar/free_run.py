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
from optgold.adapters import DTYPES
from optgold.check import impl_hyperparameters
from optgold.runner import CaseTimeout, default_dtype, time_limit


@dataclass
class FreeRun:
    loss: list  # the batch loss at IMPL's own parameters before each step
    evaluation: dict = None  # {"train"|"test": {"loss", "accuracy"}} of its final parameters
    message: str = ""  # why it stopped early, if it did

    def as_json(self):
        return {"loss": self.loss, "evaluation": self.evaluation, "message": self.message}


def free_run(factory, case, data, dtype="float32", device="cpu", impl_args=None, timeout=60.0, progress=None):
    """Train IMPL freely along ``case``; ``progress(case, step)`` after each step."""
    run = cifar_data.run_data(data, case.batch_size, case.steps, case.order_seed, case.eval_size)
    torch_dtype = DTYPES[dtype]
    params = [torch.tensor(p, dtype=torch_dtype, device=device).requires_grad_(True) for p in case.start()]
    losses = []
    try:
        with default_dtype(torch_dtype):
            optimizer = factory(params, **impl_hyperparameters(case, impl_args or {}))
            for t in range(case.steps):
                images, labels = run.batch(t)
                for group in optimizer.param_groups:
                    group["lr"] = float(case.lr[t])
                with time_limit(timeout):
                    optimizer.zero_grad()
                    x = torch.tensor(images, dtype=torch_dtype, device=device)
                    loss = F.cross_entropy(model.logits(params, x), torch.tensor(labels, device=device))
                    loss.backward()
                    optimizer.step()
                losses.append(float(loss.detach()))
                if progress:
                    progress(case, t + 1)
                if not np.isfinite(losses[-1]):
                    return FreeRun(losses, message=f"loss not finite at step {t + 1}")
    except CaseTimeout as caught:
        return FreeRun(losses, message=f"timed out at step {len(losses) + 1}: {caught}")
    except Exception as caught:  # the implementation's own failure is a result, not a crash
        return FreeRun(losses, message=f"raised {type(caught).__name__} at step {len(losses) + 1}: {caught}")
    final = [p.detach().to("cpu", torch.float64).numpy() for p in params]
    return FreeRun(losses, model.evaluate_run(final, run))


def plot(results, path, data_description):
    """One panel per case: the golden's batch loss and IMPL's free-run loss, with a 20-step moving average."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [c for c in results if c.free_run is not None]
    figure, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 3.8), squeeze=False)
    for axis, case in zip(axes[0], cases):
        for label, loss, colour in (("golden", case.golden_loss, "black"), ("implementation, free run",
                                                                             case.free_run.loss, "tab:red")):
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
