"""Rprop written by hand, once correctly and then with one realistic bug per class.

``Rprop`` follows torch.optim.Rprop's documented algorithm (iRprop-). Each mutant
overrides the per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


def sign_factor(product, etaminus, etaplus):
    """etaplus where product > 0, etaminus where product < 0, 1 elsewhere, in product's dtype."""
    factor = torch.ones_like(product)
    factor[product > 0] = etaplus
    factor[product < 0] = etaminus
    return factor


class Rprop(Optimizer):
    """Correct Rprop with etas, step-size clamps and maximize."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0), maximize=False):
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize))

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
                        state["prev"] = torch.zeros_like(p)
                        state["step_size"] = torch.full_like(p, group["lr"])
                    state["step"] += 1
                    self.update(p, p.grad, state, group)
        return loss

    def update(self, p, grad, state, group):
        (etaminus, etaplus), (step_min, step_max) = group["etas"], group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        if group["maximize"]:
            grad = -grad
        product = grad * prev
        factor = sign_factor(product, etaminus, etaplus)
        step_size.mul_(factor).clamp_(step_min, step_max)
        grad = torch.where(product < 0, torch.zeros_like(grad), grad)
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)


class RpropClampBeforeMultiply(Rprop):
    """The step size is clamped before it is multiplied, so etaplus/etaminus carry it past the bounds."""

    def update(self, p, grad, state, group):
        (etaminus, etaplus), (step_min, step_max) = group["etas"], group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        if group["maximize"]:
            grad = -grad
        product = grad * prev
        factor = sign_factor(product, etaminus, etaplus)
        step_size.clamp_(step_min, step_max).mul_(factor)  # BUG: multiply, then clamp
        grad = torch.where(product < 0, torch.zeros_like(grad), grad)
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)


class RpropPrevKeptOnFlip(Rprop):
    """On a sign change the step is skipped, but prev keeps the gradient instead of zero."""

    def update(self, p, grad, state, group):
        (etaminus, etaplus), (step_min, step_max) = group["etas"], group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        if group["maximize"]:
            grad = -grad
        product = grad * prev
        factor = sign_factor(product, etaminus, etaplus)
        step_size.mul_(factor).clamp_(step_min, step_max)
        prev.copy_(grad)  # BUG: must store the zeroed gradient, after the line below
        grad = torch.where(product < 0, torch.zeros_like(grad), grad)
        p.addcmul_(grad.sign(), step_size, value=-1)


class RpropMaximizePrevUnflipped(Rprop):
    """With maximize, prev stores p.grad as it came, unnegated: the sign test then swaps its branches."""

    def update(self, p, grad, state, group):
        (etaminus, etaplus), (step_min, step_max) = group["etas"], group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        if group["maximize"]:
            grad = -grad
        product = grad * prev
        factor = sign_factor(product, etaminus, etaplus)
        step_size.mul_(factor).clamp_(step_min, step_max)
        flipped = product < 0
        grad = torch.where(flipped, torch.zeros_like(grad), grad)
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(torch.where(flipped, torch.zeros_like(grad), p.grad))  # BUG: p.grad is not negated


class RpropEtasSwapped(Rprop):
    """etas unpacked in the wrong order: the step grows on a sign change and shrinks otherwise."""

    def update(self, p, grad, state, group):
        (etaplus, etaminus), (step_min, step_max) = group["etas"], group["step_sizes"]  # BUG: (etaminus, etaplus)
        prev, step_size = state["prev"], state["step_size"]
        if group["maximize"]:
            grad = -grad
        product = grad * prev
        factor = sign_factor(product, etaminus, etaplus)
        step_size.mul_(factor).clamp_(step_min, step_max)
        grad = torch.where(product < 0, torch.zeros_like(grad), grad)
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)


REFERENCE = "rprop"
CORRECT = Rprop
MUTANTS = [
    RpropClampBeforeMultiply,
    RpropPrevKeptOnFlip,
    RpropMaximizePrevUnflipped,
    RpropEtasSwapped,
]
