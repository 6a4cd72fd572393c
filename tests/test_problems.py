"""The test problems: analytic gradients are right, layouts are consistent, noise is reproducible."""
import math
import random

import mpmath
import numpy as np
import pytest
import torch

from optgold.reference import problems, trajectory
from optgold.problems import TorchProblem

CASES = [(name, negate) for name in problems.PROBLEMS for negate in (False, True)]
IDS = [f"{name}{'-negated' if negate else ''}" for name, negate in CASES]
STEPS = (0, 1, 7)


def points(problem, count=4, seed=0):
    """Random points around the start, at the start's scale."""
    rng = random.Random(seed)
    return [[x + rng.gauss(0.0, 1.0) for x in problem.start] for _ in range(count)]


def base_of(problem):
    return problem.base if isinstance(problem, problems.Negated) else problem


@pytest.mark.parametrize("name,negate", CASES, ids=IDS)
def test_analytic_gradient_equals_autograd(name, negate):
    problem, torch_problem = problems.get(name, negate), TorchProblem(name, negate)
    for x in points(problem):
        for step in STEPS:
            ref = np.array(problem.gradient(x, step))
            auto = torch_problem.gradient(torch.tensor(x, dtype=torch.float64), step).numpy()
            assert np.abs(ref - auto).max() <= 1e-12 * np.abs(auto).max(), (x, step)


@pytest.mark.parametrize("name", list(problems.PROBLEMS))
def test_torch_value_equals_reference_value(name):
    problem, torch_problem = problems.get(name), TorchProblem(name)
    for x in points(problem):
        assert float(torch_problem.value(torch.tensor(x, dtype=torch.float64))) == pytest.approx(
            problem.value(x), rel=1e-12)


def test_autograd_comparison_catches_a_wrong_gradient():
    """The legacy-tests bug: Rosenbrock's 4*b*x*(y - x^2) written as 2*b*x*(y - x^2)."""
    problem = problems.get("rosenbrock_2d")
    x = points(problem)[0]
    good = problem.gradient(x, 0)
    bad = [(-2 * (1 - u) - 2 * 100 * u * (w - u * u)) if k % 2 == 0 else g
           for k, (g, u, w) in enumerate(zip(good, x, x[1:] + [0.0]))]
    auto = TorchProblem("rosenbrock_2d").gradient(torch.tensor(x, dtype=torch.float64), 0).numpy()
    assert np.abs(np.array(bad) - auto).max() > 1e-3 * np.abs(auto).max()


@pytest.mark.parametrize("name,negate", CASES, ids=IDS)
def test_gradient_matches_mpmath_central_differences(name, negate):
    """d f / d x_i by central differences at 50 digits (h = 1e-20: truncation ~1e-40, rounding ~1e-30)."""
    problem = problems.get(name, negate)
    noise = base_of(problem).noise if isinstance(base_of(problem), problems.Noisy) else None
    rng = random.Random(1)
    x = points(problem, count=1, seed=2)[0]
    n = len(x)
    coords = range(n) if n <= 24 else rng.sample(range(n), 8)  # the 100-d problem: a sample of coordinates
    step = 5
    g = problem.gradient(x, step)
    if noise is not None:  # the noise is part of the gradient, not of the value
        sign = -1.0 if negate else 1.0
        g = [gi - sign * e for gi, e in zip(g, noise(step))]
    if isinstance(base_of(problem), problems.SparseRows):  # only the rows present this step carry the gradient
        present = base_of(problem).present(step)
        coords = [i for i in coords if present[i]]
        assert coords and all(g[i] == 0 for i in range(n) if not present[i])
    with mpmath.workdps(50):
        h = mpmath.mpf(10) ** -20
        xm = [mpmath.mpf(v) for v in x]
        scale = max(abs(v) for v in g)
        for i in coords:
            up, down = list(xm), list(xm)
            up[i] += h
            down[i] -= h
            fd = (problem.value(up) - problem.value(down)) / (2 * h)
            assert abs(fd - g[i]) <= 1e-12 * scale, (i, float(fd), g[i])


@pytest.mark.parametrize("name", list(problems.PROBLEMS))
def test_shapes_cover_the_start_exactly(name):
    problem = problems.get(name)
    assert problems.size(problem.shapes) == len(problem.start) == sum(math.prod(s) for s in problem.shapes)
    assert len(problem.shapes) >= 2, "several tensors, so that per-tensor bugs show"
    tensors = trajectory.split(problem.start, problem.shapes)
    assert [len(t) for t in tensors] == [math.prod(s) for s in problem.shapes]
    assert [x for t in tensors for x in t] == problem.start
    assert len(problem.gradient(problem.start, 0)) == len(problem.start)


NOISY = [name for name, p in problems.PROBLEMS.items() if isinstance(p, problems.Noisy)]


def test_there_is_a_noisy_problem():
    assert NOISY


@pytest.mark.parametrize("name", NOISY)
@pytest.mark.parametrize("negate", (False, True))
def test_noise_is_deterministic_per_step_and_fresh_across_steps(name, negate):
    problem = problems.get(name, negate)
    x = problem.start
    assert problem.gradient(x, 3) == problems.get(name, negate).gradient(list(x), 3)
    assert problem.gradient(x, 3) != problem.gradient(x, 4)
    noise = base_of(problem).noise
    assert noise(3) == noise(3) and noise(3) != noise(4)
    assert all(e != 0 for e in noise(0))
    # the suite's noisy gradient uses the same draw at the same step
    auto = TorchProblem(name, negate).gradient(torch.tensor(x, dtype=torch.float64), 4).numpy()
    ref = np.array(problem.gradient(x, 4))
    assert np.abs(ref - auto).max() <= 1e-12 * np.abs(auto).max()


SPARSE = [name for name, p in problems.PROBLEMS.items() if isinstance(p, problems.SparseRows)]


@pytest.mark.parametrize("name", [n for n in problems.PROBLEMS if n not in NOISY + SPARSE])
def test_noiseless_gradient_ignores_the_step(name):
    problem = problems.get(name)
    assert problem.gradient(problem.start, 0) == problem.gradient(problem.start, 9)


@pytest.mark.parametrize("name", list(problems.PROBLEMS))
def test_negated_problem_is_minus_f(name):
    problem, negated = problems.get(name), problems.get(name, negate=True)
    x = points(problem, count=1)[0]
    assert negated.value(x) == -problem.value(x)
    assert negated.gradient(x, 2) == [-g for g in problem.gradient(x, 2)]


@pytest.mark.parametrize("name", SPARSE)
def test_sparse_rows_change_per_step_and_match_the_suite(name):
    problem = problems.get(name)
    assert problem.present(3) == problem.present(3) and problem.present(3) != problem.present(4)
    x = problem.start
    auto = TorchProblem(name).gradient(torch.tensor(x, dtype=torch.float64), 4).numpy()
    ref = np.array(problem.gradient(x, 4))
    assert ((ref == 0) == (auto == 0)).all()
    assert np.abs(ref - auto).max() <= 1e-12 * np.abs(auto).max()
