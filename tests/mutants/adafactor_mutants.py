"""Adafactor written by hand, once correctly and then with one realistic bug per class.

``Adafactor`` follows torch.optim.Adafactor: row and column factors of the second moment
for tensors of 2 or more dims, a full variance for vectors, a relative step size, update
clipping and decoupled weight decay. Each mutant overrides the per-tensor ``update`` and
differs from it in one place, marked ``# BUG``.
"""
import math

import torch
from torch.optim import Optimizer


class Adafactor(Optimizer):
    """Correct Adafactor, factored over the last two dims, with maximize and weight decay."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                 maximize=False):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, maximize=maximize)
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
                        self.init_state(p, self.state[p])
                    self.update(p, p.grad, self.state[p], group)
        return loss

    def init_state(self, p, state):
        state["step"] = 0
        if p.dim() > 1:
            state["row_var"] = p.new_zeros(p.shape[:-1] + (1,))
            state["col_var"] = p.new_zeros(p.shape[:-2] + (1, p.shape[-1]))
        else:
            state["variance"] = torch.zeros_like(p)

    @staticmethod
    def hyperparameters(p, group):
        eps1, eps2 = group["eps"]
        eps1 = torch.finfo(p.dtype).eps if eps1 is None else eps1
        return group["lr"], group["beta2_decay"], eps1, eps2, group["d"], group["weight_decay"]

    def variance_estimate(self, grad, state, weight, eps1):
        if grad.dim() > 1:
            state["row_var"].lerp_((grad * grad).mean(dim=-1, keepdim=True), weight)
            state["col_var"].lerp_((grad * grad).mean(dim=-2, keepdim=True), weight)
            row_mean = state["row_var"].mean(dim=-2, keepdim=True).clamp(min=eps1)
            return state["row_var"] * state["col_var"] / row_mean
        state["variance"].lerp_(grad * grad, weight)
        return state["variance"].clone()

    def update(self, p, grad, state, group):
        lr, beta2_decay, eps1, eps2, d, wd = self.hyperparameters(p, group)
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, p.norm().item() / math.sqrt(p.numel())) * rho
        if wd != 0:
            p.mul_(1 - lr * wd)
        estimate = self.variance_estimate(grad, state, t ** beta2_decay, eps1)
        u = grad / estimate.clamp(min=eps1 * eps1).sqrt()
        clip = max(1.0, u.norm().item() / (math.sqrt(u.numel()) * d))
        p.add_(u, alpha=-alpha / clip)


class AdafactorEpsNotSquared(Adafactor):
    """The variance estimate is clamped at eps1 instead of eps1^2, so the floor on sqrt(V) is
    sqrt(eps1), not eps1."""

    def update(self, p, grad, state, group):
        lr, beta2_decay, eps1, eps2, d, wd = self.hyperparameters(p, group)
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, p.norm().item() / math.sqrt(p.numel())) * rho
        if wd != 0:
            p.mul_(1 - lr * wd)
        estimate = self.variance_estimate(grad, state, t ** beta2_decay, eps1)
        u = grad / estimate.clamp(min=eps1).sqrt()  # BUG: min=eps1 * eps1
        clip = max(1.0, u.norm().item() / (math.sqrt(u.numel()) * d))
        p.add_(u, alpha=-alpha / clip)


class AdafactorAlphaAfterDecay(Adafactor):
    """The relative step size reads RMS(p) after the weight decay has shrunk p."""

    def update(self, p, grad, state, group):
        lr, beta2_decay, eps1, eps2, d, wd = self.hyperparameters(p, group)
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        rho = min(lr, 1 / math.sqrt(t))
        if wd != 0:
            p.mul_(1 - lr * wd)
        alpha = max(eps2, p.norm().item() / math.sqrt(p.numel())) * rho  # BUG: belongs before the decay
        estimate = self.variance_estimate(grad, state, t ** beta2_decay, eps1)
        u = grad / estimate.clamp(min=eps1 * eps1).sqrt()
        clip = max(1.0, u.norm().item() / (math.sqrt(u.numel()) * d))
        p.add_(u, alpha=-alpha / clip)


class AdafactorClipByNorm(Adafactor):
    """Update clipping divides by max(1, ||U|| / d), the norm, instead of the RMS of U."""

    def update(self, p, grad, state, group):
        lr, beta2_decay, eps1, eps2, d, wd = self.hyperparameters(p, group)
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, p.norm().item() / math.sqrt(p.numel())) * rho
        if wd != 0:
            p.mul_(1 - lr * wd)
        estimate = self.variance_estimate(grad, state, t ** beta2_decay, eps1)
        u = grad / estimate.clamp(min=eps1 * eps1).sqrt()
        clip = max(1.0, u.norm().item() / d)  # BUG: RMS(U) = ||U|| / sqrt(numel)
        p.add_(u, alpha=-alpha / clip)


class AdafactorRhoInverseStep(Adafactor):
    """The relative step size decays as 1 / t instead of 1 / sqrt(t)."""

    def update(self, p, grad, state, group):
        lr, beta2_decay, eps1, eps2, d, wd = self.hyperparameters(p, group)
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        rho = min(lr, 1 / t)  # BUG: 1 / sqrt(t)
        alpha = max(eps2, p.norm().item() / math.sqrt(p.numel())) * rho
        if wd != 0:
            p.mul_(1 - lr * wd)
        estimate = self.variance_estimate(grad, state, t ** beta2_decay, eps1)
        u = grad / estimate.clamp(min=eps1 * eps1).sqrt()
        clip = max(1.0, u.norm().item() / (math.sqrt(u.numel()) * d))
        p.add_(u, alpha=-alpha / clip)


REFERENCE = "adafactor"
CORRECT = Adafactor
MUTANTS = [
    AdafactorEpsNotSquared,
    AdafactorAlphaAfterDecay,
    AdafactorClipByNorm,
    AdafactorRhoInverseStep,
]
