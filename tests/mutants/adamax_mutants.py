"""Adamax written by hand, once correctly and then with one realistic bug per class.

``Adamax`` follows torch.optim.Adamax's documented algorithm. Each mutant overrides the
per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


class Adamax(Optimizer):
    """Correct Adamax with weight decay and maximize."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if not self.state[p]:
                        self.init_state(p, self.state[p], group)
                    self.update(p, p.grad, self.state[p], group)
        return loss

    def init_state(self, p, state, group):
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_inf"] = torch.zeros_like(p)

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
        p.addcdiv_(exp_avg, exp_inf, value=-lr / (1 - beta1 ** t))


class AdamaxEpsOutsideMax(Adamax):
    """eps added after the max, as Keras does: m / (max(beta2 u, |g|) + eps) instead of max(beta2 u, |g| + eps)."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        torch.maximum(exp_inf.mul_(beta2), grad.abs(), out=exp_inf)
        p.addcdiv_(exp_avg, exp_inf + eps, value=-lr / (1 - beta1 ** t))  # BUG: eps belongs inside the max


class AdamaxInfNormNotDecayed(Adamax):
    """The infinity norm is never decayed by beta2: u = max(u, |g| + eps) keeps the largest gradient forever."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        torch.maximum(exp_inf, grad.abs().add_(eps), out=exp_inf)  # BUG: exp_inf.mul_(beta2) missing
        p.addcdiv_(exp_avg, exp_inf, value=-lr / (1 - beta1 ** t))


class AdamaxInfNormBiasCorrected(Adamax):
    """Adam's second bias correction carried over: u is divided by 1 - beta2^t, which a max does not need."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
        p.addcdiv_(exp_avg, exp_inf / (1 - beta2 ** t), value=-lr / (1 - beta1 ** t))  # BUG: no u correction


class AdamaxMaximizeAfterDecay(Adamax):
    """maximize negates the decayed gradient, -(g + wd p), so weight decay pushes p away from zero."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        if group["maximize"]:
            grad = -grad  # BUG: negate before adding weight decay
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
        p.addcdiv_(exp_avg, exp_inf, value=-lr / (1 - beta1 ** t))


REFERENCE = "adamax"
CORRECT = Adamax
MUTANTS = [
    AdamaxEpsOutsideMax,
    AdamaxInfNormNotDecayed,
    AdamaxInfNormBiasCorrected,
    AdamaxMaximizeAfterDecay,
]
