"""Tolerances of a CIFAR replay: suite/tolerance.py's replay model, accumulated step by step.

Parameters: bound_t = C * u * (|p_0| + sum_{s<t} (|p_{s+1}| + |u_s| + mean |u_s|)), elementwise,
exactly tolerance.param_bound in replay mode, but kept as a running sum because a
CIFAR run has 145,578 parameters per step and is never held whole in memory.
State buffers: C * u * sum_{s<=t} (|state_s| + mean |state_s|), as tolerance.state_bound.

u is the implementation's unit roundoff plus float64's: the expected values are a
float64 run of the reference (golden/cifar/lanes.py), which rounds by the same model.
(The quadratic goldens carry a 50-digit certificate instead; a 145,578-parameter run
at 50 digits is out of reach, and the model's own term is the honest substitute.)
"""
import numpy as np

from golden.dtypes import UNIT_ROUNDOFF
from suite.tolerance import C


def unit(dtype):
    return C * (UNIT_ROUNDOFF[dtype] + UNIT_ROUNDOFF["float64"])


class ParamBound:
    def __init__(self, start, dtype):
        self.scale, self.previous = unit(dtype), np.array(start)
        self.accumulated = np.abs(self.previous)

    def advance(self, params):
        """Add step t's golden parameters; returns the bound at step t."""
        update = np.abs(params - self.previous)
        self.accumulated += np.abs(params) + update + update.mean()
        self.previous = np.array(params)
        return self.scale * self.accumulated


class StateBound:
    def __init__(self, dtype):
        self.scale, self.accumulated = unit(dtype), 0.0

    def advance(self, values):
        magnitude = np.abs(values)
        self.accumulated = self.accumulated + magnitude + magnitude.mean()
        return self.scale * self.accumulated
