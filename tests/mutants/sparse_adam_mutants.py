"""SparseAdam written by hand, once correctly and then with one realistic bug per class.

``SparseAdam`` follows torch.optim.SparseAdam: it takes a sparse COO gradient, coalesces
it (the suite's gradients repeat some indices), and updates the moments and parameters at
the present indices only, with eps added to the uncorrected sqrt(v). Each mutant overrides
the per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import math

import torch
from torch.optim import Optimizer


class SparseAdam(Optimizer):
    """Correct SparseAdam: masked Adam over the coalesced sparse gradient's indices."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if not p.grad.is_sparse:
                        raise RuntimeError("SparseAdam takes sparse gradients")
                    if not self.state[p]:
                        self.init_state(p, self.state[p])
                    self.update(p, p.grad, self.state[p], group)
        return loss

    def init_state(self, p, state):
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        grad = grad.coalesce()  # repeated indices summed: the update is nonlinear in the gradient
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        index, g = tuple(grad.indices()), grad.values()
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        m = exp_avg[index] + (1 - beta1) * (g - exp_avg[index])
        v = exp_avg_sq[index] + (1 - beta2) * (g * g - exp_avg_sq[index])
        exp_avg[index], exp_avg_sq[index] = m, v
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        p[index] = p[index] - step_size * (m / (v.sqrt() + eps))


class SparseAdamNoCoalesce(SparseAdam):
    """The gradient is not coalesced: a repeated index is updated once per copy, each from its
    share of the gradient, and the last write wins."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        # BUG: grad = grad.coalesce() is missing
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        index, g = tuple(grad._indices()), grad._values()
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        m = exp_avg[index] + (1 - beta1) * (g - exp_avg[index])
        v = exp_avg_sq[index] + (1 - beta2) * (g * g - exp_avg_sq[index])
        exp_avg[index], exp_avg_sq[index] = m, v
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        p[index] = p[index] - step_size * (m / (v.sqrt() + eps))


class SparseAdamEpsOnCorrected(SparseAdam):
    """torch.optim.Adam's eps placement copied over: sqrt(v / (1 - beta2^t)) + eps instead of
    SparseAdam's sqrt(v) + eps with the correction folded into the step size."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        grad = grad.coalesce()
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        index, g = tuple(grad.indices()), grad.values()
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        m = exp_avg[index] + (1 - beta1) * (g - exp_avg[index])
        v = exp_avg_sq[index] + (1 - beta2) * (g * g - exp_avg_sq[index])
        exp_avg[index], exp_avg_sq[index] = m, v
        denom = v.sqrt() / math.sqrt(1 - beta2 ** t) + eps  # BUG: SparseAdam adds eps to sqrt(v) itself
        p[index] = p[index] - lr / (1 - beta1 ** t) * (m / denom)


class SparseAdamDensified(SparseAdam):
    """The sparse gradient is densified and every entry updated: absent rows count as zero
    gradient, so their moments decay and their parameters keep moving."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        grad = grad.to_dense()  # BUG: only the present indices may change
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.add_((1 - beta1) * (grad - exp_avg))
        exp_avg_sq.add_((1 - beta2) * (grad * grad - exp_avg_sq))
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        p.sub_(step_size * (exp_avg / (exp_avg_sq.sqrt() + eps)))


class SparseAdamStepPerEntry(SparseAdam):
    """Bias correction counts, per entry, the steps that entry was present (a "lazy" counter),
    instead of the tensor's step count."""

    def init_state(self, p, state):
        super().init_state(p, state)
        state["entry_steps"] = torch.zeros_like(p)

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        grad = grad.coalesce()
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        index, g = tuple(grad.indices()), grad.values()
        state["entry_steps"][index] += 1
        t = state["entry_steps"][index]  # BUG: t = state["step"], one count for the tensor
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        m = exp_avg[index] + (1 - beta1) * (g - exp_avg[index])
        v = exp_avg_sq[index] + (1 - beta2) * (g * g - exp_avg_sq[index])
        exp_avg[index], exp_avg_sq[index] = m, v
        step_size = lr * (1 - beta2 ** t).sqrt() / (1 - beta1 ** t)
        p[index] = p[index] - step_size * (m / (v.sqrt() + eps))


REFERENCE = "sparse_adam"
CORRECT = SparseAdam
MUTANTS = [
    SparseAdamNoCoalesce,
    SparseAdamEpsOnCorrected,
    SparseAdamDensified,
    SparseAdamStepPerEntry,
]
