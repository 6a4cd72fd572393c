"""An optimizer made slower on purpose, by real work, to show that the regression gate catches it.

    optgold bench suite.bench.slowed:optimizer --reference adam --impl-arg slowdown=0.10 \\
        --baseline torch.optim:Adam

After each step of the wrapped optimizer (``inner``, any IMPL spec), the wrapper keeps
doing tensor arithmetic until ``slowdown`` times that step's own duration has passed.
The extra work tracks the step, so the slowdown stays a fixed fraction even when the
machine's speed drifts; it is memory traffic, not a sleep, so it competes for the same
caches and bandwidth as a real regression would.
"""
import time

import torch

from optgold.loading import load_impl

CHUNK = 1 << 14  # elements per unit of extra work: a few microseconds


class Slowed:
    """Delegates to ``inner``; ``step`` costs (1 + slowdown) times as long."""

    def __init__(self, inner, slowdown):
        if slowdown < 0:
            raise ValueError(f"slowdown must be >= 0, got {slowdown}")
        self.inner, self.slowdown = inner, slowdown
        self._a, self._b, self._out = torch.rand(CHUNK), torch.rand(CHUNK), torch.empty(CHUNK)
        self._cuda = any(p.is_cuda for group in inner.param_groups for p in group["params"])

    def __getattr__(self, name):  # state, param_groups, zero_grad, state_dict, ...
        return getattr(self.inner, name)

    def _finished(self):
        if self._cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def step(self, closure=None):
        start = time.perf_counter()
        loss = self.inner.step(closure)
        spent = self._finished() - start
        deadline = time.perf_counter() + self.slowdown * spent
        while time.perf_counter() < deadline:
            torch.add(self._a, self._b, out=self._out)
        return loss


def optimizer(params, inner="torch.optim:Adam", slowdown=0.10, **hyperparameters):
    """Factory for ``optgold``: ``inner`` built with the hyperparameters, then slowed down."""
    return Slowed(load_impl(inner)(params, **hyperparameters), slowdown)
