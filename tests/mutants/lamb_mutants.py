"""LAMB written by hand, once correctly and then with one realistic bug per class.

torch.optim has no LAMB, so ``Lamb`` (Algorithm 2 of You et al., 2020, phi = identity,
trust ratio 1 at a zero norm, no gradient clipping) is the implementation checked
against the golden. Each mutant overrides ``update`` (the per-tensor step direction
before the trust ratio) or ``trust_ratio`` and differs from it in one place, marked
``# BUG``.
"""
import torch
from torch.optim import Optimizer


class Lamb(Optimizer):
    """Correct LAMB: bias-corrected Adam ratio plus weight decay, scaled by ||p|| / ||update|| per tensor."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            updates = []
            for p in params:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                updates.append(self.update(p, p.grad, state, group))
            ratios = self.trust_ratio(params, updates)
            for p, update, ratio in zip(params, updates, ratios):
                p.add_(update * ratio, alpha=-group["lr"])
        return loss

    def update(self, p, grad, state, group):
        (beta1, beta2), eps, wd, t = group["betas"], group["eps"], group["weight_decay"], state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        update = (exp_avg / (1 - beta1 ** t)) / ((exp_avg_sq / (1 - beta2 ** t)).sqrt() + eps)
        return update.add(p, alpha=wd) if wd else update

    def trust_ratio(self, params, updates):
        """Per tensor: ||p|| / ||update||, or 1 where either norm is 0."""
        ratios = []
        for p, update in zip(params, updates):
            w_norm, u_norm = p.norm(), update.norm()
            one = torch.ones_like(w_norm)
            ratios.append(torch.where(w_norm > 0, torch.where(u_norm > 0, w_norm / u_norm, one), one))
        return ratios


class LambGlobalTrustRatio(Lamb):
    """One trust ratio for all tensors: norms taken over the concatenated parameters (a flattened implementation)."""

    def trust_ratio(self, params, updates):
        w_norm = torch.cat([p.reshape(-1) for p in params]).norm()
        u_norm = torch.cat([u.reshape(-1) for u in updates]).norm()  # BUG: per tensor, not over all of them
        return [w_norm / u_norm] * len(params)


class LambRatioWithoutDecay(Lamb):
    """The trust ratio's denominator is the Adam ratio's norm alone, without the weight decay term."""

    def update(self, p, grad, state, group):
        (beta1, beta2), eps, wd, t = group["betas"], group["eps"], group["weight_decay"], state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        update = (exp_avg / (1 - beta1 ** t)) / ((exp_avg_sq / (1 - beta2 ** t)).sqrt() + eps)
        state["adam_norm"] = update.norm()
        return update.add(p, alpha=wd) if wd else update

    def trust_ratio(self, params, updates):
        return [p.norm() / self.state[p]["adam_norm"] for p in params]  # BUG: ||r + wd * p||, not ||r||


class LambNoBiasCorrection(Lamb):
    """The moments are not bias-corrected (as in the paper's v3), while the reference corrects them."""

    def update(self, p, grad, state, group):
        (beta1, beta2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        update = exp_avg / (exp_avg_sq.sqrt() + eps)  # BUG: divide by 1 - beta1^t and 1 - beta2^t
        return update.add(p, alpha=wd) if wd else update


class LambEpsInsideSqrt(Lamb):
    """eps added under the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""

    def update(self, p, grad, state, group):
        (beta1, beta2), eps, wd, t = group["betas"], group["eps"], group["weight_decay"], state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        update = (exp_avg / (1 - beta1 ** t)) / (exp_avg_sq / (1 - beta2 ** t) + eps).sqrt()  # BUG
        return update.add(p, alpha=wd) if wd else update


class LambGradNormRatio(Lamb):
    """LARS's trust ratio in LAMB: ||p|| / ||grad|| instead of ||p|| / ||update||."""

    def trust_ratio(self, params, updates):
        return [p.norm() / p.grad.norm() for p in params]  # BUG: update.norm(), not p.grad.norm()


REFERENCE = "lamb"
CORRECT = Lamb
MUTANTS = [
    LambGlobalTrustRatio,
    LambRatioWithoutDecay,
    LambNoBiasCorrection,
    LambEpsInsideSqrt,
    LambGradNormRatio,
]
