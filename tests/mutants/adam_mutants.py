"""Adam written by hand, once correctly and then with one realistic bug per class.

``Adam`` follows torch.optim.Adam's documented algorithm. Each mutant overrides the
per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import math

import torch
from torch.optim import Optimizer


class Adam(Optimizer):
    """Correct Adam with coupled or decoupled weight decay, amsgrad and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
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
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(p)

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
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamEpsInsideSqrt(Adam):
    """eps added under the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""

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
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq / (1 - beta2 ** t)).add_(eps).sqrt()  # BUG: eps belongs outside the sqrt
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamBiasCorrectionOffByOne(Adam):
    """Bias correction uses t + 1: the counter is already incremented but treated as zero-based."""

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
        t = state["step"] + 1  # BUG: t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamNoSecondMomentCorrection(Adam):
    """Only the first moment is bias-corrected; sqrt(v) is used without dividing by sqrt(1 - beta2^t)."""

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
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = exp_avg_sq.sqrt().add_(eps)  # BUG: divide by sqrt(1 - beta2 ** t)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamSharedStepCounter(Adam):
    """One step counter per param group, incremented once per tensor: t runs n_tensors times too fast."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        group["step"] = group.get("step", 0) + 1  # BUG: counts tensors, not steps; belongs in state[p]
        t = group["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        del state["step"]  # the counter lives in the group


class AdamLerpWeightBeta1(Adam):
    """First moment lerped with weight beta1: m = (1 - beta1) m + beta1 g."""

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
        exp_avg.lerp_(grad, beta1)  # BUG: weight 1 - beta1
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamBetasSwapped(Adam):
    """betas unpacked in the wrong order: beta1 drives the second moment and beta2 the first."""

    def update(self, p, grad, state, group):
        lr, (beta2, beta1), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]  # BUG
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
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamAmsgradNotStored(Adam):
    """amsgrad's running max is computed into a new tensor and never stored: max_exp_avg_sq stays zero."""

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
        if group["amsgrad"]:
            exp_avg_sq = torch.maximum(state["max_exp_avg_sq"], exp_avg_sq)  # BUG: out= missing
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamMaximizeOnLr(Adam):
    """maximize flips the sign of lr instead of the gradient, so weight decay grows the weights."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            lr = -lr  # BUG: grad = -grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamDecoupledFlagIgnored(Adam):
    """decoupled_weight_decay is accepted but ignored: weight decay is always coupled (L2 in the gradient)."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:  # BUG: the decoupled branch, p.mul_(1 - lr * wd), is missing
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamSecondMomentRawGrad(Adam):
    """The second moment is fed p.grad instead of the decayed gradient, so L2 decay reaches only m."""

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
        exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)  # BUG: grad, not p.grad
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))



class AdamAmsgradFromDefaults(Adam):
    """amsgrad read from the constructor's defaults in the update: a per-group flag is lost."""

    def update(self, p, grad, state, group):
        group = {**group, "amsgrad": self.defaults["amsgrad"]}  # BUG: should be the group's own flag
        super().update(p, grad, state, group)



class AdamLrCachedAtInit(Adam):
    """lr read once at construction, so an LR scheduler's changes never reach the update."""

    def update(self, p, grad, state, group):
        group = {**group, "lr": self.defaults["lr"]}  # BUG: should be the group's current lr
        super().update(p, grad, state, group)


REFERENCE = "adam"
CORRECT = Adam
MUTANTS = [
    AdamLrCachedAtInit,
    AdamAmsgradFromDefaults,
    AdamEpsInsideSqrt,
    AdamBiasCorrectionOffByOne,
    AdamNoSecondMomentCorrection,
    AdamSharedStepCounter,
    AdamLerpWeightBeta1,
    AdamBetasSwapped,
    AdamAmsgradNotStored,
    AdamMaximizeOnLr,
    AdamDecoupledFlagIgnored,
    AdamSecondMomentRawGrad,
]
