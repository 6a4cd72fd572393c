"""Muon written by hand, once correctly and then with one realistic bug per class.

``Muon`` follows torch.optim.Muon's algorithm, with one deliberate difference: its
Newton-Schulz iteration runs in the parameter's dtype, where torch's runs in bfloat16
(see reference/muon.py). Each mutant overrides one method and differs from the base in
one place, marked ``# BUG``.
"""
import math

import torch
from torch.optim import Optimizer

DEFAULT_COEFFICIENTS = (3.4445, -4.775, 2.0315)


class Muon(Optimizer):
    """Correct Muon for 2-D parameters: lerped momentum, Newton-Schulz, shape-adjusted lr."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=DEFAULT_COEFFICIENTS, eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
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
                        self.state[p]["momentum_buffer"] = torch.zeros_like(p)
                    self.update(p, p.grad, self.state[p], group)
        return loss

    def momentum(self, grad, buf, group):
        buf.lerp_(grad, 1 - group["momentum"])
        return grad.lerp(buf, group["momentum"]) if group["nesterov"] else buf

    def normalize(self, x, eps):
        return x / x.norm().clamp(min=eps)

    def orthogonalize(self, m, group):
        a, b, c = group["ns_coefficients"]
        tall = m.size(0) > m.size(1)
        x = self.normalize(m.T if tall else m, group["eps"])
        for _ in range(group["ns_steps"]):
            gram = x @ x.T
            x = a * x + (b * gram + c * gram @ gram) @ x
        return x.T if tall else x

    def adjusted_lr(self, lr, adjust_lr_fn, shape):
        rows, cols = shape
        if adjust_lr_fn == "match_rms_adamw":
            return lr * 0.2 * math.sqrt(max(rows, cols))
        return lr * math.sqrt(max(1, rows / cols))

    def update(self, p, grad, state, group):
        lr, wd = group["lr"], group["weight_decay"]
        o = self.orthogonalize(self.momentum(grad, state["momentum_buffer"], group), group)
        p.mul_(1 - lr * wd)
        p.add_(o, alpha=-self.adjusted_lr(lr, group["adjust_lr_fn"], p.shape))


class MuonNormPlusEps(Muon):
    """Newton-Schulz input normalized by ||X|| + eps (Keller Jordan's muon.py) instead of max(||X||, eps)."""

    def normalize(self, x, eps):
        return x / (x.norm() + eps)  # BUG: torch clamps, x.norm().clamp(min=eps)


class MuonDocumentedBuffer(Muon):
    """Momentum as torch's docstring writes it, B = momentum B + g and Nesterov g + momentum B,
    instead of the lerp torch computes (which scales both by 1 - momentum)."""

    def momentum(self, grad, buf, group):
        buf.mul_(group["momentum"]).add_(grad)  # BUG: buf.lerp_(grad, 1 - momentum)
        return grad.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf


class MuonDecayWithAdjustedLr(Muon):
    """Weight decay scaled by the shape-adjusted lr instead of lr."""

    def update(self, p, grad, state, group):
        lr, wd = group["lr"], group["weight_decay"]
        o = self.orthogonalize(self.momentum(grad, state["momentum_buffer"], group), group)
        adjusted = self.adjusted_lr(lr, group["adjust_lr_fn"], p.shape)
        p.mul_(1 - adjusted * wd)  # BUG: 1 - lr * wd
        p.add_(o, alpha=-adjusted)


class MuonAdjustRatioInverted(Muon):
    """The "original" lr adjustment with the shape ratio inverted: sqrt(max(1, cols / rows)),
    scaling up wide matrices instead of tall ones."""

    def adjusted_lr(self, lr, adjust_lr_fn, shape):
        rows, cols = shape
        if adjust_lr_fn == "match_rms_adamw":
            return lr * 0.2 * math.sqrt(max(rows, cols))
        return lr * math.sqrt(max(1, cols / rows))  # BUG: rows / cols


class MuonBfloat16NewtonSchulz(Muon):
    """Not a mutant: the base of the low-precision ones, Newton-Schulz in bfloat16 as torch runs it."""

    def orthogonalize(self, m, group):
        return super().orthogonalize(m.bfloat16(), group)


class MuonUpdateAppliedInBfloat16(MuonBfloat16NewtonSchulz):
    """The parameter taken to the update's dtype (bfloat16) to add the update, and stored back, so every
    step rounds the parameter to 8 bits; torch adds the bfloat16 update in the parameter's dtype."""

    def update(self, p, grad, state, group):
        lr, wd = group["lr"], group["weight_decay"]
        o = self.orthogonalize(self.momentum(grad, state["momentum_buffer"], group), group)
        p.mul_(1 - lr * wd)
        p.copy_(p.to(o.dtype).add_(o, alpha=-self.adjusted_lr(lr, group["adjust_lr_fn"], p.shape)))  # BUG: p.add_(o)


REFERENCE = "muon"
CORRECT = Muon
MUTANTS = [
    MuonNormPlusEps,
    MuonDocumentedBuffer,
    MuonDecayWithAdjustedLr,
    MuonAdjustRatioInverted,
    MuonUpdateAppliedInBfloat16,
]
