"""Running error analysis of the reference formulas: a bound on what rounding can do, element by element.

A replay step of a network run can lose accuracy in ways a magnitude model misses:
with L2 decay, g + weight_decay * p cancels where the gradient nearly balances the
decay (the sum is 50x smaller than its terms in this run), and centered RMSprop takes
v - a^2. The rounding of the terms, not of the result, then sets the error.

``Bounded`` carries a value and a bound on its absolute error, and follows Wilkinson's
running error analysis to first order: each operation propagates its operands' errors
(|a| e_b + |b| e_a for a product, and so on) and adds its own rounding, u |result|.
The reference formulas are generic over the number type, so they run unchanged on
Bounded numbers whose values are whole float64 tensors (golden/cifar/lanes.py). The
error of the implementation's inputs is their rounding to its dtype: the gradient
each step, and the parameters once, at the start. State and parameters carry their
errors from step to step, as the implementation carries its own.

u is the implementation's unit roundoff plus float64's: the expected values are a
float64 run of the same formulas, which rounds by the same analysis.
"""
import numpy as np

from optgold.golden.dtypes import UNIT_ROUNDOFF


def _parts(x):
    """(value, error) of a Bounded or of an exact number (a hyperparameter)."""
    return (x.value, x.error) if isinstance(x, Bounded) else (x, 0.0)


class Bounded:
    """A float64 tensor value and a bound on the absolute error of computing it in a lower precision."""

    __array_ufunc__ = None  # numpy defers to our operators

    def __array_namespace__(self):
        """The references' arith.maximum and minimum find Bounded's own (AMSGrad's running max)."""
        return _BOUNDED_NAMESPACE

    def __init__(self, value, error, unit):
        self.value, self.error, self.unit = np.asarray(value, dtype=np.float64), np.asarray(error), unit

    def _result(self, value, error):
        return Bounded(value, error + self.unit * np.abs(value), self.unit)

    def __add__(self, other):
        b, eb = _parts(other)
        return self._result(self.value + b, self.error + eb)

    __radd__ = __add__

    def __sub__(self, other):
        b, eb = _parts(other)
        return self._result(self.value - b, self.error + eb)

    def __rsub__(self, other):
        return self._result(other - self.value, self.error)

    def __mul__(self, other):
        b, eb = _parts(other)
        return self._result(self.value * b, np.abs(self.value) * eb + np.abs(b) * self.error + self.error * eb)

    __rmul__ = __mul__

    def __truediv__(self, other):
        b, eb = _parts(other)
        quotient = self.value / b
        return self._result(quotient, (self.error + np.abs(quotient) * eb) / _above_error(b, eb))

    def __rtruediv__(self, other):
        quotient = other / self.value
        return self._result(quotient, np.abs(quotient) * self.error / _above_error(self.value, self.error))

    def __neg__(self):
        return Bounded(-self.value, self.error, self.unit)

    def __pow__(self, exponent):
        if exponent != 0.5:
            raise TypeError(f"running error analysis covers sqrt (** 0.5), not ** {exponent}")
        root = np.sqrt(self.value)
        # sqrt is steepest at 0: take the worst of the interval [v - e, v] instead of the derivative
        return self._result(root, root - np.sqrt(np.maximum(self.value - self.error, 0.0)))

    def __bool__(self):
        raise TypeError("running error analysis cannot follow a branch on a computed value")


def _above_error(denominator, error):
    """|denominator| - error, the smallest it can be; a denominator its error could zero has no bound."""
    smallest = np.abs(denominator) - error
    return np.where(smallest > 0, smallest, 0.0)


def _choice(choose):
    """max or min (AMSGrad's running max): where the two are close, rounding may pick either, so take both errors."""
    def chosen(a, b):
        (x, ex), (y, ey) = _parts(a), _parts(b)
        return Bounded(choose(x, y), np.maximum(ex, ey), a.unit if isinstance(a, Bounded) else b.unit)
    return chosen


class _BoundedNamespace:
    maximum, minimum = staticmethod(_choice(np.maximum)), staticmethod(_choice(np.minimum))


_BOUNDED_NAMESPACE = _BoundedNamespace()


def unit(dtype):
    return UNIT_ROUNDOFF[dtype] + UNIT_ROUNDOFF["float64"]


class ErrorLanes:
    """One reference run on Bounded tensors: the error bound of every parameter and state element, step by step."""

    def __init__(self, optimizer, tensors, hp, dtype):
        self.optimizer, self.unit = optimizer, unit(dtype)
        self.rounding = 0.0 if dtype == "float64" else UNIT_ROUNDOFF[dtype]  # float64 inputs arrive exactly
        self.tensors = [Bounded(t, self.rounding * np.abs(t), self.unit) for t in tensors]
        zero = [Bounded(np.zeros(t.shape), np.zeros(t.shape), self.unit) for t in tensors]
        self.states = [_own_zeros(optimizer.init_state(1, hp, 0.0), z) for z in zero]

    def step(self, grads, hp):
        for k, (grad, state) in enumerate(zip(grads, self.states)):
            lane = [self.tensors[k]]
            g = np.asarray(grad, dtype=np.float64)
            self.optimizer.step(lane, [Bounded(g, self.rounding * np.abs(g), self.unit)], state, **hp)
            self.tensors[k] = lane[0]

    def param_errors(self):
        return np.concatenate([np.broadcast_to(t.error, t.value.shape).reshape(-1) for t in self.tensors])

    def state_errors(self, name):
        """One state buffer's error bounds across tensors, or None before it exists."""
        values = [s.get(name) for s in self.states]
        if not all(isinstance(v, list) and isinstance(v[0], Bounded) for v in values):
            return None
        return np.concatenate([np.broadcast_to(v[0].error, t.value.shape).reshape(-1)
                               for v, t in zip(values, self.tensors)])


def _own_zeros(state, zero):
    """Every per-element buffer of a fresh state becomes its own Bounded zero tensor."""
    return {k: [Bounded(zero.value.copy(), zero.error.copy(), zero.unit)] if isinstance(v, list) else v
            for k, v in state.items()}
