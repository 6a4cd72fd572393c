"""ASGD written by hand, once correctly and then with one realistic bug per class.

``ASGD`` follows torch.optim.ASGD's code, but holds eta and mu as 0-d tensors of the
parameter's dtype (torch holds them in its default scalar dtype, float32 unless the
default dtype is float64). Each mutant overrides the per-tensor ``update`` and differs
from it in one place, marked ``# BUG``. Every bug moves the parameters, not only the
average ax.
"""
import torch
from torch.optim import Optimizer


class ASGD(Optimizer):
    """Correct ASGD with the eta/mu schedule, averaging, weight decay and maximize."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize))

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
                        state["eta"] = torch.tensor(group["lr"], dtype=p.dtype)
                        state["mu"] = torch.tensor(1.0, dtype=p.dtype)
                        state["ax"] = torch.zeros_like(p)
                    state["step"] += 1
                    self.update(p, p.grad, state, group)
        return loss

    def update(self, p, grad, state, group):
        lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        t, eta, mu, ax = state["step"], state["eta"].item(), state["mu"].item(), state["ax"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        p.mul_(1 - lambd * eta).add_(grad, alpha=-eta)
        if mu != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
        state["eta"].fill_(lr / (1 + lambd * lr * t) ** alpha)
        state["mu"].fill_(1 / max(1, t - t0))


class ASGDScheduleBeforeUpdate(ASGD):
    """eta and mu are advanced to step t before the update instead of after it: eta_t is used at step t."""

    def update(self, p, grad, state, group):
        lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        t, ax = state["step"], state["ax"]
        state["eta"].fill_(lr / (1 + lambd * lr * t) ** alpha)  # BUG: belongs after the update
        state["mu"].fill_(1 / max(1, t - t0))
        eta, mu = state["eta"].item(), state["mu"].item()
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        p.mul_(1 - lambd * eta).add_(grad, alpha=-eta)
        if mu != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)


class ASGDDecayUsesLr(ASGD):
    """The decay term uses the initial lr instead of the current eta: p * (1 - lambd * lr)."""

    def update(self, p, grad, state, group):
        lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        t, eta, mu, ax = state["step"], state["eta"].item(), state["mu"].item(), state["ax"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        p.mul_(1 - lambd * lr).add_(grad, alpha=-eta)  # BUG: 1 - lambd * eta
        if mu != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
        state["eta"].fill_(lr / (1 + lambd * lr * t) ** alpha)
        state["mu"].fill_(1 / max(1, t - t0))


class ASGDNoDecayTerm(ASGD):
    """lambd only enters the schedule: the decay p * (1 - lambd * eta) is missing."""

    def update(self, p, grad, state, group):
        lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        t, eta, mu, ax = state["step"], state["eta"].item(), state["mu"].item(), state["ax"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        p.add_(grad, alpha=-eta)  # BUG: p.mul_(1 - lambd * eta) first
        if mu != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
        state["eta"].fill_(lr / (1 + lambd * lr * t) ** alpha)
        state["mu"].fill_(1 / max(1, t - t0))


class ASGDMaximizeAfterDecay(ASGD):
    """maximize negates the gradient after weight decay is added, so the decay pushes p away from zero."""

    def update(self, p, grad, state, group):
        lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        t, eta, mu, ax = state["step"], state["eta"].item(), state["mu"].item(), state["ax"]
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        if group["maximize"]:
            grad = -grad  # BUG: belongs before the weight decay
        p.mul_(1 - lambd * eta).add_(grad, alpha=-eta)
        if mu != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
        state["eta"].fill_(lr / (1 + lambd * lr * t) ** alpha)
        state["mu"].fill_(1 / max(1, t - t0))


REFERENCE = "asgd"
CORRECT = ASGD
MUTANTS = [
    ASGDScheduleBeforeUpdate,
    ASGDDecayUsesLr,
    ASGDNoDecayTerm,
    ASGDMaximizeAfterDecay,
]
