"""Adadelta written by hand, once correctly and then with one realistic bug per class.

``Adadelta`` follows torch.optim.Adadelta's documented algorithm. Each mutant overrides
the per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


class Adadelta(Optimizer):
    """Correct Adadelta with lr, weight decay and maximize."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["square_avg"] = torch.zeros_like(p)
                        state["acc_delta"] = torch.zeros_like(p)
                    state["step"] += 1
                    self.update(p, p.grad, state, group)
        return loss

    def update(self, p, grad, state, group):
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        delta = acc_delta.add(eps).sqrt_().div_(square_avg.add(eps).sqrt_()).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)


class AdadeltaEpsOutsideSqrt(Adadelta):
    """eps added after the square roots: (sqrt(u) + eps) / (sqrt(v) + eps), as in Adam."""

    def update(self, p, grad, state, group):
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        delta = acc_delta.sqrt().add_(eps).div_(square_avg.sqrt().add_(eps)).mul_(grad)  # BUG: eps inside
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)


class AdadeltaStaleSquareAvg(Adadelta):
    """The denominator is taken before square_avg is updated: RMS[g]_{t-1} instead of RMS[g]_t."""

    def update(self, p, grad, state, group):
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        std = square_avg.add(eps).sqrt_()  # BUG: computed before square_avg takes g_t
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)


class AdadeltaAccumulatesAppliedStep(Adadelta):
    """acc_delta accumulates the applied step lr * delta instead of delta (equal to torch only at lr = 1)."""

    def update(self, p, grad, state, group):
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        delta = acc_delta.add(eps).sqrt_().div_(square_avg.add(eps).sqrt_()).mul_(grad)
        step = delta.mul(lr)
        acc_delta.mul_(rho).addcmul_(step, step, value=1 - rho)  # BUG: delta, not lr * delta
        p.sub_(step)


class AdadeltaMaximizeAfterDecay(Adadelta):
    """maximize negates the gradient after weight decay is added, so the decay pushes p away from zero."""

    def update(self, p, grad, state, group):
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        if group["maximize"]:
            grad = -grad  # BUG: belongs before the weight decay
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        delta = acc_delta.add(eps).sqrt_().div_(square_avg.add(eps).sqrt_()).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)


REFERENCE = "adadelta"
CORRECT = Adadelta
MUTANTS = [
    AdadeltaEpsOutsideSqrt,
    AdadeltaStaleSquareAvg,
    AdadeltaAccumulatesAppliedStep,
    AdadeltaMaximizeAfterDecay,
]
