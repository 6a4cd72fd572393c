"""RMSprop written by hand, once correctly and then with one realistic bug per class.

``RMSprop`` follows torch.optim.RMSprop's documented algorithm. Each mutant overrides
the per-tensor ``update`` and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


class RMSprop(Optimizer):
    """Correct RMSprop with weight decay, momentum, centering and maximize."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
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
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["square_avg"] = torch.zeros_like(p)
                        if group["momentum"] > 0:
                            state["momentum_buffer"] = torch.zeros_like(p)
                        if group["centered"]:
                            state["grad_avg"] = torch.zeros_like(p)
                    state["step"] += 1
                    self.update(p, p.grad, state, group)
        return loss

    def update(self, p, grad, state, group):
        lr, alpha, eps, wd, momentum = group["lr"], group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        square_avg = state["square_avg"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)
        else:
            avg = square_avg.sqrt().add_(eps)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)


class RMSpropEpsInsideSqrt(RMSprop):
    """eps added under the square root, TensorFlow's placement, while claiming torch's."""

    def update(self, p, grad, state, group):
        lr, alpha, eps, wd, momentum = group["lr"], group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        square_avg = state["square_avg"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).add_(eps).sqrt_()  # BUG: sqrt, then eps
        else:
            avg = square_avg.add(eps).sqrt_()  # BUG: sqrt, then eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)


class RMSpropDampenedMomentum(RMSprop):
    """The momentum buffer is an exponential average: b = momentum * b + (1 - momentum) * g / avg."""

    def update(self, p, grad, state, group):
        lr, alpha, eps, wd, momentum = group["lr"], group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        square_avg = state["square_avg"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)
        else:
            avg = square_avg.sqrt().add_(eps)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg, value=1 - momentum)  # BUG: torch adds g / avg undamped
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)


class RMSpropCenteredStaleGradAvg(RMSprop):
    """Centered: the variance is taken with grad_avg from the previous step, updated only afterwards."""

    def update(self, p, grad, state, group):
        lr, alpha, eps, wd, momentum = group["lr"], group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        square_avg = state["square_avg"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)
            grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)  # BUG: must come before avg is computed
        else:
            avg = square_avg.sqrt().add_(eps)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)


class RMSpropMaximizeOnLr(RMSprop):
    """maximize flips the sign of lr instead of the gradient, so weight decay grows the weights."""

    def update(self, p, grad, state, group):
        lr, alpha, eps, wd, momentum = group["lr"], group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        square_avg = state["square_avg"]
        if group["maximize"]:
            lr = -lr  # BUG: grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)
        else:
            avg = square_avg.sqrt().add_(eps)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)


REFERENCE = "rmsprop"
CORRECT = RMSprop
MUTANTS = [
    RMSpropEpsInsideSqrt,
    RMSpropDampenedMomentum,
    RMSpropCenteredStaleGradAvg,
    RMSpropMaximizeOnLr,
]
