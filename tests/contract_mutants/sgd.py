"""SGD written by hand as torch.optim.SGD's for-loop path, then one contract bug per mutant.

``SGD`` follows torch.optim.SGD (``_single_tensor_sgd``): a parameter whose ``.grad`` is
None is skipped and its momentum buffer left as it is; the buffer is made on a parameter's
first step as a copy of its (decayed) gradient; complex parameters need no view, every
operation being linear; lr may be a 0-dim tensor.

Each mutant overrides one method and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


class SGD(Optimizer):
    """Correct SGD with momentum, dampening, Nesterov, weight decay and maximize."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in self.with_grad(group):
                self.update(p, p.grad, self.state[p], group)
        return loss

    def with_grad(self, group):
        return [p for p in group["params"] if p.grad is not None]

    def direction(self, p, grad, group):
        """The decayed gradient: maximize, then coupled weight decay."""
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        return grad

    def buffer(self, p, state):
        return state.get("momentum_buffer")

    def keep_buffer(self, p, state, buf):
        state["momentum_buffer"] = buf

    def update(self, p, grad, state, group):
        momentum = group["momentum"]
        grad = self.direction(p, grad, group)
        if momentum != 0:
            buf = self.buffer(p, state)
            if buf is None:
                buf = torch.clone(grad).detach()
                self.keep_buffer(p, state, buf)
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class SGDMomentumOutsideState(SGD):
    """The momentum buffers are kept in a list of the optimizer's own, by position, which no state_dict
    carries: after a restart momentum starts again from the gradient."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.buffers = {}

    def _position(self, p):
        return next(i for i, q in enumerate(q for group in self.param_groups for q in group["params"]) if q is p)

    def buffer(self, p, state):
        return self.buffers.get(self._position(p))

    def keep_buffer(self, p, state, buf):
        self.buffers[self._position(p)] = buf  # BUG: outside self.state, so outside the checkpoint


class SGDNoneGradAsZero(SGD):
    """A parameter whose .grad is None steps with a zero gradient: a frozen tensor keeps moving on its
    momentum and shrinks by its weight decay."""

    def with_grad(self, group):
        for p in group["params"]:
            if p.grad is None:
                p.grad = torch.zeros_like(p)  # BUG: None treated as zero
        return list(group["params"])


class SGDGradDoubled(SGD):
    """The arithmetic runs in float64 whatever the parameter (``grad.double()``, as an optimizer that
    keeps float32 or bfloat16 models exact in float64): on a complex gradient .double() keeps the
    real part and drops the imaginary one (torch only warns)."""

    def direction(self, p, grad, group):
        return super().direction(p, grad.double(), group)  # BUG: .double() of a complex tensor is its real part
