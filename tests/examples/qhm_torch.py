"""QHM in torch: a correct class, and the same class with the buffer left undamped."""
import torch


class QHM(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, beta=0.999, nu=0.7):
        super().__init__(params, dict(lr=lr, beta=beta, nu=nu))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                buf.mul_(group["beta"]).add_(p.grad, alpha=self._damping(group))
                p.add_((1 - group["nu"]) * p.grad + group["nu"] * buf, alpha=-group["lr"])

    def _damping(self, group):
        return 1 - group["beta"]


class QHMUndamped(QHM):
    def _damping(self, group):
        return 1.0  # BUG: the buffer sums gradients instead of averaging them
