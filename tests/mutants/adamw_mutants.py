"""AdamW written by hand, once correctly and then with one realistic bug per class.

``AdamW`` follows torch.optim.AdamW's documented algorithm: decoupled decay
p = p * (1 - lr * weight_decay) before the moment updates, weight_decay defaulting to
1e-2. Each mutant overrides the per-tensor ``update`` and differs from it in one
place, marked ``# BUG``.
"""
import math

import torch

from tests.mutants.adam_mutants import Adam


class AdamW(Adam):
    """Correct AdamW with amsgrad and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - lr * wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamWCoupledDecay(AdamW):
    """Weight decay added to the gradient (L2, Adam's coupled form) instead of applied to the weights."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        grad = grad.add(p, alpha=wd)  # BUG: p.mul_(1 - lr * wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamWDecayAfterUpdate(AdamW):
    """Decoupled decay applied after the Adam step, so it also shrinks this step's update."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))
        p.mul_(1 - lr * wd)  # BUG: belongs before the step


class AdamWDecayNotScaledByLr(AdamW):
    """Decoupled decay not multiplied by lr: p = p * (1 - weight_decay)."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - wd)  # BUG: 1 - lr * wd
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamWDecayScaledByStepSize(AdamW):
    """Decoupled decay multiplied by the bias-corrected step size lr / (1 - beta1^t) instead of by lr."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        step_size = lr / (1 - beta1 ** t)
        p.mul_(1 - step_size * wd)  # BUG: 1 - lr * wd
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-step_size)


class AdamWEpsInsideSqrt(AdamW):
    """eps added under the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - lr * wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq / (1 - beta2 ** t)).add_(eps).sqrt()  # BUG: eps belongs outside the sqrt
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamWMaximizeOnLr(AdamW):
    """maximize flips the sign of lr instead of the gradient, so the decoupled decay grows the weights."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            lr = -lr  # BUG: grad = -grad
        p.mul_(1 - lr * wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamWDecayOnlyAtInit(AdamW):
    """Decoupled decay indented into the state-initialisation branch, so it runs on the first step only."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        p.mul_(1 - group["lr"] * group["weight_decay"])  # BUG: belongs in update, every step

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))


class AdamWAmsgradMaxOfCorrected(AdamW):
    """amsgrad keeps the maximum of the bias-corrected v_hat instead of the raw v (torch's choice)."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - lr * wd)
        state["step"] += 1
        t = state["step"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        v_hat = exp_avg_sq / (1 - beta2 ** t)
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], v_hat, out=state["max_exp_avg_sq"])  # BUG: max of raw v
            v_hat = state["max_exp_avg_sq"]
        denom = v_hat.sqrt().add_(eps)
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** t))



class AdamWLrOfFirstGroup(AdamW):
    """Every group stepped with the first group's lr (a hoisted lookup)."""

    def update(self, p, grad, state, group):
        group = {**group, "lr": self.param_groups[0]["lr"]}  # BUG: should be group["lr"]
        super().update(p, grad, state, group)


REFERENCE = "adamw"
CORRECT = AdamW
MUTANTS = [
    AdamWLrOfFirstGroup,
    AdamWCoupledDecay,
    AdamWDecayAfterUpdate,
    AdamWDecayNotScaledByLr,
    AdamWDecayScaledByStepSize,
    AdamWEpsInsideSqrt,
    AdamWMaximizeOnLr,
    AdamWDecayOnlyAtInit,
    AdamWAmsgradMaxOfCorrected,
]
