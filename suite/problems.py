"""The reference problems in torch, for free runs: gradients by autograd of the value.

Autograd of f, not a second copy of the reference's analytic gradients: a test
checks that the two agree, so a wrong hand-derived gradient cannot hide.
"""
import torch

from optgold.reference import problems as ref


class TorchProblem:
    def __init__(self, name, negate=False):
        self.reference = ref.get(name, negate)
        base = self.reference.base if negate else self.reference
        self.noise = base.noise if isinstance(base, ref.Noisy) else None
        self.present = base.present if isinstance(base, ref.SparseRows) else None
        self.value = _value_function(base.base if isinstance(base, (ref.Noisy, ref.SparseRows)) else base)
        self.sign = -1.0 if negate else 1.0

    def loss_and_gradient(self, x, step):
        """(loss, gradient) at x (flat) for the given step, in float64."""
        x = x.detach().to(torch.float64).requires_grad_(True)
        loss = self.value(x)
        (g,) = torch.autograd.grad(loss, x)
        if self.noise is not None:
            g = g + torch.tensor(self.noise(step), dtype=torch.float64)
        if self.present is not None:
            g = g * torch.tensor(self.present(step), dtype=torch.float64)
        return self.sign * loss.detach(), self.sign * g

    def gradient(self, x, step):
        """Gradient at x (float64, flat) for the given step, in float64."""
        return self.loss_and_gradient(x, step)[1]


def _value_function(problem):
    if isinstance(problem, ref.Quadratic):
        a = torch.tensor(problem.matrix, dtype=torch.float64)
        c = torch.tensor(problem.center, dtype=torch.float64)
        return lambda x: 0.5 * (x - c) @ (a @ (x - c))
    if isinstance(problem, ref.Rosenbrock2D):
        a, b = problem.a, problem.b
        return lambda x: ((a - x[0::2]) ** 2 + b * (x[1::2] - x[0::2] ** 2) ** 2).sum()
    if isinstance(problem, ref.RosenbrockChained):
        a, b = problem.a, problem.b
        return lambda x: (b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2).sum()
    raise TypeError(f"no torch form for problem {type(problem).__name__}")


def plane(name):
    """f(x, y) on numpy arrays for a problem made of independent 2-D copies over pairs of elements
    (Rosenbrock2D: the report draws each pair's trajectory on its contours); None for any other."""
    problem = ref.PROBLEMS.get(name)
    if not isinstance(problem, ref.Rosenbrock2D):
        return None
    a, b = problem.a, problem.b
    return lambda x, y: (a - x) ** 2 + b * (y - x ** 2) ** 2
