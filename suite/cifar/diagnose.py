"""Which named variant of the reference a divergent CIFAR run matches best.

The gradients of the first KEPT_STEPS steps are kept (1.2 MB each). When the run
leaves the golden within them, as most formula bugs do, every named variant and
known bug of the reference is run on those gradients (golden/cifar/lanes.py) and
ranked by its distance to the implementation's parameters at that step.
"""
import numpy as np

from optgold import reference
from optgold.golden.cifar.lanes import Lanes
from optgold.diagnose import decide, distance

KEPT_STEPS = 8


class GradientLog:
    def __init__(self):
        self.steps = []  # (gradient per tensor, hyperparameters) of steps 1, 2, ...

    def record(self, grads, hp):
        if len(self.steps) < KEPT_STEPS:
            self.steps.append((grads, hp))


def diagnose(case, start, log, observed, step):
    """Diagnosis at ``step`` from the implementation's flat ``observed`` params, or None if not kept."""
    if step > len(log.steps) or not np.isfinite(observed).all():
        return None
    optimizer = reference.get(case.reference)
    distances = {}
    with np.errstate(all="ignore"):  # a variant may blow up; it is then no candidate
        for variant in optimizer.VARIANTS:
            lanes = Lanes(optimizer, start, case.hp, variant)
            for grads, hp in log.steps[:step]:
                lanes.step(grads, hp)
            distances[variant] = distance(observed, lanes.flat_params())
    return decide(distances, optimizer.VARIANTS)
