"""Test problems with analytic gradients, in plain Python.

A problem has a flat parameter vector laid out over several tensors (``shapes``), so
that per-tensor bugs show. The 2-D problems hold independent copies, one per pair of
elements. Constants are floats: the problem is exactly what these floats define, so
the same problem runs in float and in mpmath.
"""
import math
import random

from .linalg import matvec, rotated_diagonal


def size(shapes):
    return sum(math.prod(s) for s in shapes)


class Quadratic:
    """f(x) = 1/2 (x - c)^T A (x - c), gradient A (x - c)."""

    def __init__(self, name, matrix, center, shapes, start):
        self.name, self.matrix, self.center, self.shapes, self.start = name, matrix, center, shapes, start

    def value(self, x):
        d = [xi - ci for xi, ci in zip(x, self.center)]
        return sum(di * adi for di, adi in zip(d, matvec(self.matrix, d))) / 2

    def gradient(self, x, step):
        return matvec(self.matrix, [xi - ci for xi, ci in zip(x, self.center)])


class Rosenbrock2D:
    """Independent copies of f(x, y) = (a - x)^2 + b (y - x^2)^2 over pairs (x, y)."""

    def __init__(self, name, shapes, start, a=1.0, b=100.0):
        self.name, self.shapes, self.start, self.a, self.b = name, shapes, start, a, b

    def value(self, x):
        a, b = self.a, self.b
        return sum((a - x[k]) ** 2 + b * (x[k + 1] - x[k] ** 2) ** 2 for k in range(0, len(x), 2))

    def gradient(self, x, step):
        a, b = self.a, self.b
        g = []
        for k in range(0, len(x), 2):
            u, w = x[k], x[k + 1]
            g += [-2 * (a - u) - 4 * b * u * (w - u * u), 2 * b * (w - u * u)]
        return g


class RosenbrockChained:
    """f(x) = sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2, i = 0 .. n-2."""

    def __init__(self, name, shapes, start, a=1.0, b=100.0):
        self.name, self.shapes, self.start, self.a, self.b = name, shapes, start, a, b

    def value(self, x):
        a, b = self.a, self.b
        return sum(b * (x[i + 1] - x[i] ** 2) ** 2 + (a - x[i]) ** 2 for i in range(len(x) - 1))

    def gradient(self, x, step):
        a, b, n = self.a, self.b, len(x)
        g = [0 * xi for xi in x]
        for i in range(n - 1):
            g[i] = g[i] - 4 * b * x[i] * (x[i + 1] - x[i] ** 2) - 2 * (a - x[i])
            g[i + 1] = g[i + 1] + 2 * b * (x[i + 1] - x[i] ** 2)
        return g


class Noisy:
    """A problem whose gradient carries seeded Gaussian noise, a fresh draw each step."""

    def __init__(self, name, base, sigma, seed):
        self.name, self.base, self.sigma, self.seed = name, base, sigma, seed
        self.shapes, self.start = base.shapes, base.start

    def value(self, x):
        return self.base.value(x)

    def noise(self, step):
        rng = random.Random(self.seed * 1_000_003 + step)
        return [self.sigma * rng.gauss(0.0, 1.0) for _ in self.start]

    def gradient(self, x, step):
        return [g + e for g, e in zip(self.base.gradient(x, step), self.noise(step))]


class SparseRows:
    """A problem whose gradient reaches only some rows of each tensor per step, as an
    embedding's does: absent rows get exactly 0 (present entries are never exactly 0
    on these problems), so the set of present entries is the set of nonzeros."""

    def __init__(self, name, base, fraction, seed):
        self.name, self.base, self.fraction, self.seed = name, base, fraction, seed
        self.shapes, self.start = base.shapes, base.start

    def value(self, x):
        return self.base.value(x)

    def present(self, step):
        """Per element: does this step's gradient reach it? At least one row per tensor."""
        rng = random.Random(self.seed * 1_000_003 + step)
        mask = []
        for shape in self.shapes:
            rows, width = shape[0], math.prod(shape[1:])
            chosen = {r for r in range(rows) if rng.random() < self.fraction} or {rng.randrange(rows)}
            mask += [r in chosen for r in range(rows) for _ in range(width)]
        return mask

    def gradient(self, x, step):
        return [g if keep else 0 * g for g, keep in zip(self.base.gradient(x, step), self.present(step))]


class Negated:
    """-f, for maximize cases: maximizing -f walks the same path as minimizing f."""

    def __init__(self, base):
        self.base, self.name = base, base.name
        self.shapes, self.start = base.shapes, base.start

    def value(self, x):
        return -self.base.value(x)

    def gradient(self, x, step):
        return [-g for g in self.base.gradient(x, step)]


def _uniform(seed, n, low, high):
    rng = random.Random(seed)
    return [rng.uniform(low, high) for _ in range(n)]


def _pairs(seed, copies, x_range, y_range):
    rng = random.Random(seed)
    return [v for _ in range(copies) for v in (rng.uniform(*x_range), rng.uniform(*y_range))]


def _build():
    iso_shapes = [(3, 4), (4,)]
    rot_shapes = [(2, 3), (4,)]
    deep_shapes = [(4, 5, 3), (40,)]
    chain_shapes = [(3, 4), (5,)]
    iso_n, rot_n, deep_n = size(iso_shapes), size(rot_shapes), size(deep_shapes)

    rot_eigs = [10 ** (3 * k / (rot_n - 1)) for k in range(rot_n)]  # 1 .. 1e3, log-spaced
    rot = Quadratic("quadratic_rotated_10d", rotated_diagonal(rot_eigs, seed=10), _uniform(11, rot_n, -1, 1),
                    rot_shapes, _uniform(12, rot_n, -2, 2))

    # DeepOBS quadratic_deep: 90 eigenvalues in (0, 1), 10 in (30, 60), random rotation.
    rng = random.Random(100)
    deep_eigs = [rng.uniform(0, 1) for _ in range(90)] + [rng.uniform(30, 60) for _ in range(10)]
    deep = Quadratic("quadratic_deep_100d", rotated_diagonal(deep_eigs, seed=101), [0.0] * deep_n, deep_shapes,
                     _uniform(102, deep_n, -1, 1))

    identity = [[1.0 if i == j else 0.0 for j in range(iso_n)] for i in range(iso_n)]
    iso = Quadratic("quadratic_isotropic_2d", identity, [0.0] * iso_n, iso_shapes, _uniform(1, iso_n, -3, 3))

    # Matrices only (Muon takes 2-D parameters), one tall and one wide.
    matrix_shapes = [(4, 3), (2, 6)]
    matrix_n = size(matrix_shapes)
    matrix_eigs = [10 ** (2 * k / (matrix_n - 1)) for k in range(matrix_n)]  # 1 .. 1e2
    matrices = Quadratic("quadratic_matrices", rotated_diagonal(matrix_eigs, seed=50), _uniform(51, matrix_n, -1, 1),
                         matrix_shapes, _uniform(52, matrix_n, -2, 2))

    # Embedding-like tables for sparse gradients.
    table_shapes = [(6, 4), (5, 2)]
    table_n = size(table_shapes)
    table_eigs = [10 ** (k / (table_n - 1)) for k in range(table_n)]  # 1 .. 10
    tables = Quadratic("quadratic_tables", rotated_diagonal(table_eigs, seed=60), _uniform(61, table_n, -1, 1),
                       table_shapes, _uniform(62, table_n, -2, 2))

    # Contract cases (reference/contracts.py): small, so that many scenarios stay cheap. Matrices only
    # (Muon, factored Adafactor), even last dimensions (a complex tensor views each pair as one element),
    # and tensors 0 and 2 of one shape (a state loaded in reversed order fits). The empty variant puts
    # zero-size tensors first, in the middle and last, and a 0-dim tensor among them.
    contract_shapes = [(2, 2), (2, 4), (2, 2)]
    contract_n = size(contract_shapes)
    contract_eigs = [10 ** (2 * k / (contract_n - 1)) for k in range(contract_n)]  # 1 .. 1e2
    contract = Quadratic("quadratic_contract", rotated_diagonal(contract_eigs, seed=80), _uniform(81, contract_n, -1, 1),
                         contract_shapes, _uniform(82, contract_n, -2, 2))
    empty_shapes = [(0,), (2, 2), (0, 2), (), (2, 4), (2, 2), (0,)]
    empty_n = size(empty_shapes)
    empty_eigs = [10 ** (2 * k / (empty_n - 1)) for k in range(empty_n)]
    empty = Quadratic("quadratic_contract_empty", rotated_diagonal(empty_eigs, seed=83), _uniform(84, empty_n, -1, 1),
                      empty_shapes, _uniform(85, empty_n, -2, 2))
    long_shapes = [(2, 2), (2,)]
    long = Quadratic("quadratic_contract_long", rotated_diagonal([1.0, 2.0, 3.0, 5.0, 7.0, 10.0], seed=86),
                     _uniform(87, 6, -1, 1), long_shapes, _uniform(88, 6, -2, 2))

    problems = [
        iso, rot, deep, matrices, contract, empty, long,
        Rosenbrock2D("rosenbrock_matrices", [(4, 2), (2, 4)], _pairs(70, 8, (-1.5, 1.2), (-0.5, 2.0))),
        SparseRows("quadratic_tables_sparse", tables, fraction=0.5, seed=63),
        Rosenbrock2D("rosenbrock_2d", iso_shapes, _pairs(20, iso_n // 2, (-1.5, 1.2), (-0.5, 2.0))),
        RosenbrockChained("rosenbrock_chained", chain_shapes, _uniform(30, size(chain_shapes), -1.0, 1.5)),
        Noisy("quadratic_rotated_10d_noisy", rot, sigma=0.5, seed=40),
    ]
    return {p.name: p for p in problems}


PROBLEMS = _build()


def get(name, negate=False):
    problem = PROBLEMS[name]
    return Negated(problem) if negate else problem
