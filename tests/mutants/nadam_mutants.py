"""NAdam written by hand, once correctly and then with one realistic bug per class.

``NAdam`` follows torch.optim.NAdam's documented algorithm; it keeps mu_product as a
scalar tensor of the parameter's dtype. Each mutant overrides ``init_state`` or the
per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


def momentum(t, beta1, momentum_decay):
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


class NAdam(Optimizer):
    """Correct NAdam with the mu schedule, coupled or decoupled weight decay and maximize."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
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
        state["mu_product"] = torch.ones((), dtype=p.dtype)
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
        mu, mu_next = momentum(t, beta1, group["momentum_decay"]), momentum(t + 1, beta1, group["momentum_decay"])
        state["mu_product"] *= mu
        mu_product = state["mu_product"].item()
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(1 - beta2 ** t).sqrt_().add_(eps)
        p.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product))
        p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1 - mu_product * mu_next))


class NAdamSharedMuProduct(NAdam):
    """mu_product kept once per param group but multiplied in for every tensor: it decays n_tensors times too fast."""

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
        mu, mu_next = momentum(t, beta1, group["momentum_decay"]), momentum(t + 1, beta1, group["momentum_decay"])
        group["mu_product"] = group.get("mu_product", 1.0) * mu  # BUG: belongs in state[p], once per tensor
        mu_product = group["mu_product"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(1 - beta2 ** t).sqrt_().add_(eps)
        p.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product))
        p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1 - mu_product * mu_next))


class NAdamMuNextIsMu(NAdam):
    """The look-ahead momentum mu_{t+1} computed at t: both terms use mu_t."""

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
        mu, mu_next = momentum(t, beta1, group["momentum_decay"]), momentum(t, beta1, group["momentum_decay"])  # BUG
        state["mu_product"] *= mu
        mu_product = state["mu_product"].item()
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(1 - beta2 ** t).sqrt_().add_(eps)
        p.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product))
        p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1 - mu_product * mu_next))


class NAdamMomentumTermStaleProduct(NAdam):
    """The momentum term is corrected by 1 - prod_{i<=t} mu_i instead of 1 - prod_{i<=t+1} mu_i."""

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
        mu, mu_next = momentum(t, beta1, group["momentum_decay"]), momentum(t + 1, beta1, group["momentum_decay"])
        state["mu_product"] *= mu
        mu_product = state["mu_product"].item()
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(1 - beta2 ** t).sqrt_().add_(eps)
        p.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product))
        p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1 - mu_product))  # BUG: 1 - mu_product * mu_next


class NAdamScheduleFromZero(NAdam):
    """The momentum schedule counts from zero: mu_t computed at t - 1 (before the counter is incremented)."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        s = state["step"]  # BUG: the schedule uses the count before this step's increment
        mu, mu_next = momentum(s, beta1, group["momentum_decay"]), momentum(s + 1, beta1, group["momentum_decay"])
        state["step"] += 1
        t = state["step"]
        state["mu_product"] *= mu
        mu_product = state["mu_product"].item()
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(1 - beta2 ** t).sqrt_().add_(eps)
        p.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product))
        p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1 - mu_product * mu_next))


REFERENCE = "nadam"
CORRECT = NAdam
MUTANTS = [
    NAdamSharedMuProduct,
    NAdamMuNextIsMu,
    NAdamMomentumTermStaleProduct,
    NAdamScheduleFromZero,
]
