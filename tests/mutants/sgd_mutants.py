"""SGD written by hand, once correctly and then with one realistic bug per class.

``SGD`` follows torch.optim.SGD's documented algorithm. Each mutant overrides the
per-tensor ``update`` (or ``step`` for per-tensor bugs) and differs from it in one
place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


class SGD(Optimizer):
    """Correct SGD with momentum, dampening, Nesterov, weight decay and maximize."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
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
                    self.update(p, p.grad, self.state[p], group)
        return loss

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class SGDDampenedFirstStep(SGD):
    """Dampening applied on the first step too: the buffer starts at zero instead of at the gradient."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = torch.zeros_like(p)  # BUG: torch starts the buffer at g_1
            buf = state["momentum_buffer"]
            buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class SGDDampeningNotComplemented(SGD):
    """The gradient enters the buffer scaled by dampening instead of by 1 - dampening."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=group["dampening"])  # BUG: alpha=1 - dampening
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class SGDDecayOutsideMomentum(SGD):
    """Weight decay added to the step after the momentum buffer instead of to the gradient before it."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])  # BUG: belongs before the buffer
        p.add_(grad, alpha=-group["lr"])


class SGDNesterovOldBuffer(SGD):
    """Nesterov look-ahead taken with the previous step's buffer b_{t-1} instead of the updated b_t."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            previous = grad if buf is None else buf.clone()  # BUG: the look-ahead needs b_t, taken below
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(previous, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class SGDNesterovNoMomentumFactor(SGD):
    """Nesterov look-ahead adds the buffer without the momentum factor: g + b instead of g + momentum * b."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf) if group["nesterov"] else buf  # BUG: alpha=momentum missing
        p.add_(grad, alpha=-group["lr"])


class SGDAliasedBuffer(SGD):
    """The momentum buffer is the gradient tensor itself (clone missing), so the next backward overwrites it."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad  # BUG: grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class SGDMaximizeNegatesStep(SGD):
    """maximize negates the final step instead of the gradient, so weight decay pushes p away from zero
    (the pytorch#81859 family)."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=group["lr"] if group["maximize"] else -group["lr"])  # BUG: flip the gradient


class SGDWeightDecaySign(SGD):
    """Weight decay subtracted from the gradient, so it grows the weights instead of shrinking them."""

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.sub(p, alpha=group["weight_decay"])  # BUG: add
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class SGDNoDecayOnVectors(SGD):
    """Weight decay skipped for 1-D tensors (biases), a training-script convention hard-coded in the optimizer."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.dim() == 1:  # BUG: the caller decides what is decayed, through param groups
                    self.update(p, p.grad, self.state[p], {**group, "weight_decay": 0.0})
                else:
                    self.update(p, p.grad, self.state[p], group)
        return loss



class SGDNesterovFromDefaults(SGD):
    """Nesterov read from the constructor's defaults, not the param group: a per-group flag is lost."""

    def update(self, p, grad, state, group):
        group = {**group, "nesterov": self.defaults["nesterov"]}  # BUG: should be the group's own flag
        super().update(p, grad, state, group)



class SGDLrCachedAtInit(SGD):
    """lr read once at construction, so an LR scheduler's changes never reach the update."""

    def update(self, p, grad, state, group):
        group = {**group, "lr": self.defaults["lr"]}  # BUG: should be the group's current lr
        super().update(p, grad, state, group)


REFERENCE = "sgd"
CORRECT = SGD
MUTANTS = [
    SGDLrCachedAtInit,
    SGDNesterovFromDefaults,
    SGDDampenedFirstStep,
    SGDDampeningNotComplemented,
    SGDDecayOutsideMomentum,
    SGDNesterovOldBuffer,
    SGDNesterovNoMomentumFactor,
    SGDAliasedBuffer,
    SGDMaximizeNegatesStep,
    SGDWeightDecaySign,
    SGDNoDecayOnVectors,
]
