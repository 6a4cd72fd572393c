"""Walk a stored CIFAR golden again, certified step by step.

The golden parameters of every step are not stored (0.35 GB a run). The reference
formulas re-walk them on whole tensors (lanes.py), from the seeded start, on the
network's float64 gradients at those very parameters; the stored fingerprint of each
step and the final parameters certify the walk (reproduce.py). A walk that leaves
them is not the golden, and raises GoldenError instead of judging anything.
"""
import numpy as np

from optgold import reference
from optgold.golden import store
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import fingerprint, model, reproduce
from optgold.golden.cifar.lanes import Lanes


class GoldenWalk:
    """The golden trajectory of one case: ``gradient(t)`` at the golden parameters, then ``step(t)``."""

    def __init__(self, case, data):
        self.case, self.signs = case, fingerprint.directions(case.shapes)
        self.start = case.start()
        self.lanes = Lanes(reference.get(case.reference), self.start, case.hp)
        self.run = cifar_data.run_data(data, case.batch_size, case.steps, case.order_seed, case.eval_size)
        self.certify(0)

    def hyperparameters(self, t):
        """The reference's hyperparameters at step t (1-based): the case's, with that step's lr."""
        return {**self.case.hp, "lr": float(self.case.lr[t - 1])}

    def gradient(self, t):
        """Per tensor, the float64 gradient of step t's batch at the golden parameters before step t."""
        return model.loss_and_gradient(self.lanes.tensors, *self.run.batch(t - 1))[1]

    def step(self, grads, t):
        self.lanes.step(grads, self.hyperparameters(t))
        self.certify(t)

    def certify(self, t):
        case = self.case
        observed = fingerprint.fingerprint(self.lanes.tensors, self.signs)
        miss = reproduce.first_mismatch(observed[None], case.fingerprints[t][None], case.drift[t:t + 1], case.sizes)
        if miss:
            _, k, f, difference, bound = miss
            raise store.GoldenError(
                f"CIFAR golden {case.reference}/{case.id} is not reproduced here: at step {t}, the "
                f"{case.fields[f]} of {case.names[k]} is off by {difference:.3g} (float64 reproduction bound "
                f"{bound:.3g}); it was made with other data, another network or another torch "
                f"({case.data_name}); regenerate with `{case.rebuild}`")

    def certify_final(self):
        case = self.case
        if not (np.abs(self.lanes.flat_params() - case.final_params.astype(np.float64))
                <= reproduce.final_bound(case.drift[-1], case.final_params)).all():
            raise store.GoldenError(f"CIFAR golden {case.reference}/{case.id}: the final parameters are not "
                                    f"reproduced here; regenerate with `{case.rebuild}`")
