"""Adagrad written by hand, once correctly and then with one realistic bug per class.

``Adagrad`` follows torch.optim.Adagrad's documented algorithm. Each mutant overrides
``init_state`` or the per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


class Adagrad(Optimizer):
    """Correct Adagrad with lr decay, weight decay, an initial accumulator and maximize."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
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
        state["sum"] = torch.full_like(p, group["initial_accumulator_value"])

    def update(self, p, grad, state, group):
        lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        state["sum"].addcmul_(grad, grad)
        p.addcdiv_(grad, state["sum"].sqrt().add_(eps), value=-clr)


class AdagradLrDecayOffByOne(Adagrad):
    """lr decay counted from the incremented step: lr / (1 + t * lr_decay), one decay too many."""

    def update(self, p, grad, state, group):
        lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        clr = lr / (1 + state["step"] * lr_decay)  # BUG: (state["step"] - 1)
        state["sum"].addcmul_(grad, grad)
        p.addcdiv_(grad, state["sum"].sqrt().add_(eps), value=-clr)


class AdagradEpsInsideSqrt(Adagrad):
    """eps added under the square root: sqrt(sum + eps) instead of sqrt(sum) + eps."""

    def update(self, p, grad, state, group):
        lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        state["sum"].addcmul_(grad, grad)
        p.addcdiv_(grad, state["sum"].add(eps).sqrt(), value=-clr)  # BUG: eps belongs outside the sqrt


class AdagradInitialAccumulatorIgnored(Adagrad):
    """initial_accumulator_value is accepted but the sum starts at zero."""

    def init_state(self, p, state, group):
        state["step"] = 0
        state["sum"] = torch.zeros_like(p)  # BUG: torch.full_like(p, initial_accumulator_value)


class AdagradRawGradInSum(Adagrad):
    """The accumulator is fed p.grad instead of the decayed gradient, so L2 decay never reaches the sum."""

    def update(self, p, grad, state, group):
        lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        state["sum"].addcmul_(p.grad, p.grad)  # BUG: grad, not p.grad
        p.addcdiv_(grad, state["sum"].sqrt().add_(eps), value=-clr)


REFERENCE = "adagrad"
CORRECT = Adagrad
MUTANTS = [
    AdagradLrDecayOffByOne,
    AdagradEpsInsideSqrt,
    AdagradInitialAccumulatorIgnored,
    AdagradRawGradInSum,
]
