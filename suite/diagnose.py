"""Which named variant of the reference does an observed trajectory match best?

Each variant (and known bug) of the reference is replayed in plain Python on the
golden gradients, exactly as the implementation was in replay mode, and the
variants are ranked by their distance to what the implementation did.
"""
from dataclasses import dataclass

import numpy as np

from optgold import reference
from optgold.reference import problems, trajectory


@dataclass(frozen=True)
class Diagnosis:
    variant: str
    description: str
    distance: float  # max over steps of |observed - variant|_inf / |variant|_inf
    reference_distance: float  # the same for the reference itself

    def describe(self):
        if self.variant == "torch":
            return f"no named variant is closer than the reference itself (distance {self.distance:.2g})"
        return (f"closest named variant: {self.variant} — {self.description} "
                f"(distance {self.distance:.2g}; reference {self.reference_distance:.2g})")


def _distance(observed, candidate):
    rows = min(len(observed), len(candidate))
    difference = np.abs(observed[:rows] - candidate[:rows]).max(axis=1)
    scale = np.abs(candidate[:rows]).max(axis=1) + 1e-300
    return float(np.nan_to_num(difference / scale, nan=np.inf).max())


def variant_distances(case, observed_params):
    """{variant: distance} for every variant of the case's reference."""
    optimizer = reference.get(case.reference)
    problem = problems.get(case.problem, case.negate)
    steps = len(observed_params) - 1
    grads = case.grads[:steps].tolist()
    distances = {}
    for variant in optimizer.VARIANTS:
        try:
            params, _, _ = trajectory.run(optimizer, problem, case.hp, steps, variant=variant, grads=grads,
                                          **case.run_args())
        except (OverflowError, ZeroDivisionError, ValueError):
            continue  # a variant that blows up on this case is no candidate
        distances[variant] = _distance(observed_params, np.array(params))
    return distances


def diagnose(case, observed_params):
    if len(observed_params) < 2:
        return None
    distances = variant_distances(case, observed_params)
    best = min(distances, key=distances.get)
    return Diagnosis(best, reference.get(case.reference).VARIANTS[best], distances[best],
                     distances.get("torch", float("nan")))
