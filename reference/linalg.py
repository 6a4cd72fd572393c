"""Seeded random matrices for the quadratic problems, without numpy."""
import random


def random_rotation(n, rng):
    """An orthogonal matrix: Gram-Schmidt on a Gaussian matrix, applied twice for accuracy."""
    rows = []
    for _ in range(n):
        v = [rng.gauss(0.0, 1.0) for _ in range(n)]
        for _ in range(2):
            for q in rows:
                dot = sum(a * b for a, b in zip(v, q))
                v = [a - dot * b for a, b in zip(v, q)]
        norm = sum(a * a for a in v) ** 0.5
        rows.append([a / norm for a in v])
    return rows


def rotated_diagonal(eigenvalues, seed):
    """A = Q^T diag(eigenvalues) Q with a seeded random rotation Q."""
    n = len(eigenvalues)
    q = random_rotation(n, random.Random(seed))
    return [[sum(q[k][i] * eigenvalues[k] * q[k][j] for k in range(n)) for j in range(n)] for i in range(n)]


def matvec(a, x):
    return [sum(aij * xj for aij, xj in zip(row, x)) for row in a]
