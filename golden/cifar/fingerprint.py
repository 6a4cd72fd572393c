"""A compact per-tensor fingerprint of the parameters, stored for every step.

Per tensor: the rms, the largest magnitude, and PROJECTIONS projections onto fixed
seeded random sign vectors, scaled by 1/sqrt(n). Together they move when any element
moves, so a run that leaves the golden shows the step and tensor where it left,
without storing 145,578 numbers per step. Every field changes by at most sqrt(n)
times the largest change of an element (the rms and maximum by at most that change).
"""
import random

import numpy as np

PROJECTIONS = 4
FIELDS = ("rms", "max_abs") + tuple(f"projection_{j}" for j in range(PROJECTIONS))
SEED = 7919


def directions(shapes, seed=SEED):
    """Per tensor, a (PROJECTIONS, n) matrix of +-1 from Python's seeded random."""
    out = []
    for k, shape in enumerate(shapes):
        n = int(np.prod(shape))
        rng = random.Random(seed * 1_000_003 + k)
        bits = np.frombuffer(rng.getrandbits(PROJECTIONS * n).to_bytes((PROJECTIONS * n + 7) // 8, "little"),
                             dtype=np.uint8)
        signs = np.unpackbits(bits, bitorder="little")[:PROJECTIONS * n].astype(np.float64) * 2 - 1
        out.append(signs.reshape(PROJECTIONS, n))
    return out


def fingerprint(tensors, signs):
    """(tensors, len(FIELDS)) array for one step."""
    rows = []
    for tensor, sign in zip(tensors, signs):
        flat = np.asarray(tensor, dtype=np.float64).reshape(-1)
        scale = np.sqrt(flat.size)
        # einsum, not BLAS: a fixed summation order, and no BLAS threads to contend with torch's
        rows.append([np.sqrt(np.einsum("i,i->", flat, flat)) / scale, np.abs(flat).max(),
                     *(np.einsum("ij,j->i", sign, flat) / scale)])
    return np.array(rows)
