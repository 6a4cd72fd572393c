"""Lion written by hand, once correctly and then with one realistic bug per class.

torch.optim has no Lion, so ``Lion`` (Program 1 of Chen et al., 2023, as
lucidrains/lion-pytorch writes it) is the implementation checked against the golden.
Each mutant overrides the per-tensor ``update`` and differs from it in one place,
marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


class Lion(Optimizer):
    """Correct Lion: sign of the beta1 interpolation, decoupled decay scaled by lr, maximize."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize))

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
                        state["exp_avg"] = torch.zeros_like(p)
                    state["step"] += 1
                    self.update(p, p.grad, state, group)
        return loss

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        exp_avg = state["exp_avg"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - lr * wd)
        update = exp_avg.lerp(grad, 1 - beta1).sign_()
        p.add_(update, alpha=-lr)
        exp_avg.lerp_(grad, 1 - beta2)


class LionMomentumFirst(Lion):
    """The momentum is updated before the sign is taken, so the step is sign(new m) (beta1 unused)."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        exp_avg = state["exp_avg"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - lr * wd)
        exp_avg.lerp_(grad, 1 - beta2)
        update = exp_avg.sign()  # BUG: exp_avg.lerp(grad, 1 - beta1) with the old m, before the update
        p.add_(update, alpha=-lr)


class LionDecayUnscaled(Lion):
    """Decoupled weight decay not scaled by lr: p *= 1 - weight_decay."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        exp_avg = state["exp_avg"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - wd)  # BUG: 1 - lr * wd
        update = exp_avg.lerp(grad, 1 - beta1).sign_()
        p.add_(update, alpha=-lr)
        exp_avg.lerp_(grad, 1 - beta2)


class LionBetasSwapped(Lion):
    """betas unpacked in the wrong order: beta2 interpolates the sign's argument, beta1 the momentum."""

    def update(self, p, grad, state, group):
        lr, (beta2, beta1), wd = group["lr"], group["betas"], group["weight_decay"]  # BUG
        exp_avg = state["exp_avg"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - lr * wd)
        update = exp_avg.lerp(grad, 1 - beta1).sign_()
        p.add_(update, alpha=-lr)
        exp_avg.lerp_(grad, 1 - beta2)


class LionMaximizeOnLr(Lion):
    """maximize flips the sign of lr instead of the gradient, so weight decay grows the weights."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        exp_avg = state["exp_avg"]
        if group["maximize"]:
            lr = -lr  # BUG: grad = -grad
        p.mul_(1 - lr * wd)
        update = exp_avg.lerp(grad, 1 - beta1).sign_()
        p.add_(update, alpha=-lr)
        exp_avg.lerp_(grad, 1 - beta2)


class LionLerpWeightBeta(Lion):
    """The momentum lerped with weight beta2 instead of 1 - beta2: m = (1 - beta2) m + beta2 g."""

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        exp_avg = state["exp_avg"]
        if group["maximize"]:
            grad = -grad
        p.mul_(1 - lr * wd)
        update = exp_avg.lerp(grad, 1 - beta1).sign_()
        p.add_(update, alpha=-lr)
        exp_avg.lerp_(grad, beta2)  # BUG: weight 1 - beta2


REFERENCE = "lion"
CORRECT = Lion
MUTANTS = [
    LionMomentumFirst,
    LionDecayUnscaled,
    LionBetasSwapped,
    LionMaximizeOnLr,
    LionLerpWeightBeta,
]
