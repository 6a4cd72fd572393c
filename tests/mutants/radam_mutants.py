"""RAdam written by hand, once correctly and then with one realistic bug per class.

``RAdam`` follows torch.optim.RAdam's documented algorithm. Each mutant overrides the
per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import math

import torch
from torch.optim import Optimizer


class RAdam(Optimizer):
    """Correct RAdam with the rectification warm-up, coupled or decoupled weight decay and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
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
        state["exp_avg_sq"] = torch.zeros_like(p)

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = exp_avg_sq.sqrt().add_(eps)
            p.addcdiv_(exp_avg, denom, value=-lr * rect * math.sqrt(bias_correction2) / bias_correction1)
        else:
            p.add_(exp_avg, alpha=-lr / bias_correction1)


class RAdamThresholdOffByOne(RAdam):
    """Rectification switched on from rho_t > 4, a step early, where r_t is near zero."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 4:  # BUG: rho_t > 5
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = exp_avg_sq.sqrt().add_(eps)
            p.addcdiv_(exp_avg, denom, value=-lr * rect * math.sqrt(bias_correction2) / bias_correction1)
        else:
            p.add_(exp_avg, alpha=-lr / bias_correction1)


class RAdamNoWarmupUpdate(RAdam):
    """No update during the warm-up (rho_t <= 5), the authors' degenerated_to_sgd=False, under torch's name."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = exp_avg_sq.sqrt().add_(eps)
            p.addcdiv_(exp_avg, denom, value=-lr * rect * math.sqrt(bias_correction2) / bias_correction1)
        # BUG: the else branch, p.add_(exp_avg, alpha=-lr / bias_correction1), is missing


class RAdamSecondCorrectionNotSqrt(RAdam):
    """The adaptive term scaled by 1 - beta2^t instead of its square root."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = exp_avg_sq.sqrt().add_(eps)
            p.addcdiv_(exp_avg, denom, value=-lr * rect * bias_correction2 / bias_correction1)  # BUG: sqrt
        else:
            p.add_(exp_avg, alpha=-lr / bias_correction1)


class RAdamRhoInfOffByOne(RAdam):
    """rho_inf = 2 / (1 - beta2), the "- 1" dropped: r_t and the warm-up length shift slightly."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2)  # BUG: 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = exp_avg_sq.sqrt().add_(eps)
            p.addcdiv_(exp_avg, denom, value=-lr * rect * math.sqrt(bias_correction2) / bias_correction1)
        else:
            p.add_(exp_avg, alpha=-lr / bias_correction1)


REFERENCE = "radam"
CORRECT = RAdam
MUTANTS = [
    RAdamThresholdOffByOne,
    RAdamNoWarmupUpdate,
    RAdamSecondCorrectionNotSqrt,
    RAdamRhoInfOffByOne,
]
