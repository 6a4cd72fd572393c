"""A catalogue of realistic optimizer bugs that the default golden grid must catch.

Each mutant is a small torch.optim.Optimizer subclass with exactly one bug, written the
way a person writing their own optimizer might. ``CORRECT`` holds the bug-free bases
the mutants derive from; they must pass, so that a mutant fails only by its bug.

``caught_in_float32`` is False only where the bug's effect was measured to lie below
float32 rounding on the grid; ``why_not_float32`` then says why.
"""
from dataclasses import dataclass

from tests.mutants import adam_mutants as adam
from tests.mutants import adamw_mutants as adamw
from tests.mutants import sgd_mutants as sgd


@dataclass(frozen=True)
class Mutant:
    name: str
    reference: str
    cls: type
    description: str
    caught_in_float32: bool = True
    why_not_float32: str = None


def _mutant(reference, cls, caught_in_float32=True, why_not_float32=None):
    description = " ".join(cls.__doc__.split())
    return Mutant(cls.__name__, reference, cls, description, caught_in_float32, why_not_float32)


CORRECT = {"sgd": sgd.SGD, "adam": adam.Adam, "adamw": adamw.AdamW}

MUTANTS = [
    _mutant("sgd", sgd.SGDDampenedFirstStep),
    _mutant("sgd", sgd.SGDDampeningNotComplemented),
    _mutant("sgd", sgd.SGDDecayOutsideMomentum),
    _mutant("sgd", sgd.SGDNesterovOldBuffer),
    _mutant("sgd", sgd.SGDNesterovNoMomentumFactor),
    _mutant("sgd", sgd.SGDAliasedBuffer),
    _mutant("sgd", sgd.SGDMaximizeNegatesStep),
    _mutant("sgd", sgd.SGDWeightDecaySign),
    _mutant("sgd", sgd.SGDNoDecayOnVectors),
    _mutant("adam", adam.AdamEpsInsideSqrt),
    _mutant("adam", adam.AdamBiasCorrectionOffByOne),
    _mutant("adam", adam.AdamNoSecondMomentCorrection),
    _mutant("adam", adam.AdamSharedStepCounter),
    _mutant("adam", adam.AdamLerpWeightBeta1),
    _mutant("adam", adam.AdamBetasSwapped),
    _mutant("adam", adam.AdamAmsgradNotStored),
    _mutant("adam", adam.AdamMaximizeOnLr),
    _mutant("adam", adam.AdamDecoupledFlagIgnored),
    _mutant("adam", adam.AdamSecondMomentRawGrad),
    _mutant("adamw", adamw.AdamWCoupledDecay),
    _mutant("adamw", adamw.AdamWDecayAfterUpdate),
    _mutant("adamw", adamw.AdamWDecayNotScaledByLr),
    _mutant("adamw", adamw.AdamWDecayScaledByStepSize),
    _mutant("adamw", adamw.AdamWEpsInsideSqrt),
    _mutant("adamw", adamw.AdamWMaximizeOnLr),
    _mutant("adamw", adamw.AdamWDecayOnlyAtInit),
    _mutant("adamw", adamw.AdamWAmsgradMaxOfCorrected),
]
