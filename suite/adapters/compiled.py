"""A torch optimizer whose step runs under torch.compile (inductor), as fast training runs it.

The lr is held as a 0-dim tensor, in every param group, so that a schedule changes its value
and not the graph: a float lr is a constant to dynamo, and each new value would recompile (or,
cached wrongly, be ignored: pytorch#106802). Everything around the step (the gradients written
into .grad, the gradient contract, the scheduler, GradScaler) stays eager, as in a training
loop that compiles only ``optimizer.step``.

Each adapter starts from a reset dynamo, so that one case's graphs, guards and recompile
limit do not carry into the next. It counts the graphs compiled and the seconds the steps
that compiled took (``engine_notes``): a rebuilt optimizer (restart, a new param group, a
None gradient) compiles again, which is what the contracts probe.
"""
import time

import torch

from optgold.adapters.eager import TorchOptimizerAdapter


class CompiledTorchAdapter(TorchOptimizerAdapter):
    """TorchOptimizerAdapter with ``optimizer.step`` under ``torch.compile``."""

    def __init__(self, factory, hyperparameters, *args, groups=(), **kwargs):
        import torch._dynamo

        torch._dynamo.reset()
        self.compile_seconds, self.graphs, self.steps_compiled = 0.0, 0, 0
        self._step = torch.compile(self._eager_step, backend="inductor")
        super().__init__(factory, _lr_tensor(hyperparameters), *args,
                         groups=tuple({**g, "hp": _lr_tensor(g["hp"])} for g in groups), **kwargs)

    def _eager_step(self):
        self.optimizer.step()

    def _compiled_step(self):
        """One compiled step, timed where it compiled a graph."""
        from torch._dynamo.utils import counters

        before, start = counters["stats"]["unique_graphs"], time.perf_counter()
        self._step()
        compiled = counters["stats"]["unique_graphs"] - before
        if compiled:
            self.graphs += compiled
            self.steps_compiled += 1
            self.compile_seconds += time.perf_counter() - start

    def step(self, flat_grad, absent=(), overflow=None):
        if self.amp is not None:
            return self._scaled_step(flat_grad, absent, overflow)
        self._write_grads(flat_grad, absent)
        self._compiled_step()
        self._check_grads_kept()
        if self.scheduler is not None:
            self.scheduler.step()

    def step_closure(self, evaluate):
        raise NotImplementedError("a closure re-evaluates the problem inside the step: the compiled adapter "
                                  "compiles steps fed one gradient")

    def set_lr(self, lr):
        """The lr tensor's value, in place: the graph reads it, and stays the same."""
        for group in getattr(self.optimizer, "param_groups", ()):
            if isinstance(group.get("lr"), torch.Tensor):
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr

    def engine_notes(self):
        """What the report adds for this engine."""
        return [f"compiled with torch.compile (inductor): {self.graphs} graph(s) in {self.steps_compiled} step(s), "
                f"{max(self.graphs - 1, 0)} recompile(s), {self.compile_seconds:.1f} s compiling"]


def _lr_tensor(hp):
    """hp with a float lr as a 0-dim float64 tensor."""
    lr = hp.get("lr")
    if lr is None or isinstance(lr, torch.Tensor):
        return dict(hp)
    return {**hp, "lr": torch.tensor(float(lr), dtype=torch.float64)}
