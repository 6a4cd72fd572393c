"""The plain-Python reference formulas, run on whole tensors at once.

The formulas in reference/ are written element by element and generic over the
number type. Handing them one "element" that is a numpy float64 array runs every
element of a tensor in lockstep: + - * / and sqrt on float64 arrays are the same
correctly rounded IEEE operations as on Python floats, in the same order, so the
result is bitwise the one the element loop gives (tests/test_cifar_lanes.py proves
it for every reference and variant). A CIFAR check uses this to walk the golden
trajectory at numpy speed, and the stored fingerprints certify that it does.

max and min are the references' ``arith.maximum`` and ``minimum``, which numpy
arrays take elementwise (AMSGrad's running max).
"""
import numpy as np


def _own_arrays(state):
    """Each state list holds its own array: init_state repeats one zero, and a formula
    written with augmented assignment would otherwise update every buffer at once."""
    return {k: [np.array(x) for x in v] if isinstance(v, list) else v for k, v in state.items()}


class Lanes:
    """One run of a reference optimizer over float64 tensors, a whole tensor per lane."""

    def __init__(self, optimizer, tensors, hp, variant="torch"):
        self.optimizer, self.variant = optimizer, variant
        self.tensors = [np.array(t, dtype=np.float64) for t in tensors]
        self.states = [_own_arrays(optimizer.init_state(1, hp, np.zeros(t.shape))) for t in self.tensors]

    def step(self, grads, hp):
        for k, (grad, state) in enumerate(zip(grads, self.states)):
            lane = [self.tensors[k]]
            self.optimizer.step(lane, [np.array(grad, dtype=np.float64)], state, variant=self.variant, **hp)
            self.tensors[k] = np.broadcast_to(lane[0], self.tensors[k].shape).astype(np.float64)

    def flat_params(self):
        return np.concatenate([t.reshape(-1) for t in self.tensors])

    def state_names(self):
        """Buffers the formula keeps per element (SGD's momentum_buffer is None until step 1)."""
        return sorted(k for k, v in self.states[0].items() if isinstance(v, list) or (v is None and k != "step"))

    def flat_state(self, name):
        """One state buffer across tensors, or None before it exists (SGD's momentum_buffer)."""
        values = [s[name][0] if isinstance(s.get(name), list) else None for s in self.states]
        if any(v is None for v in values):
            return None
        return np.concatenate([np.broadcast_to(v, t.shape).reshape(-1) for v, t in zip(values, self.tensors)])
