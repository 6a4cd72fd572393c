"""Realistic bugs written as Keras optimizers are written (update_step over keras.ops), each with the
correct class it breaks: the correct ones pass their reference, each mutant is caught.

Importing this needs keras on its torch backend (optgold.adapters.keras sets KERAS_BACKEND first).
"""
from dataclasses import dataclass

import optgold.adapters.keras

optgold.adapters.keras.use_torch_backend()  # before keras is imported
from tests.keras_mutants import adam_style, lion_style, sgd_style  # noqa: E402


@dataclass(frozen=True)
class Mutant:
    name: str
    cls: type
    reference: str
    bug: str


# the correct class per reference: the mutants' bases, and keras's own where it computes torch's formula
CORRECT = {"adam": adam_style.TorchFormAdam, "lion": lion_style.KerasLion, "sgd": sgd_style.TorchFormSGD}

MUTANTS = [
    Mutant("adam_step_from_zero", adam_style.StepFromZero, "adam",
           "bias correction at t = iterations, not iterations + 1 (Keras counts steps from 0)"),
    Mutant("adam_eps_inside_sqrt", adam_style.EpsInsideSqrt, "adam", "sqrt(v_hat + eps) instead of sqrt(v_hat) + eps"),
    Mutant("lion_momentum_first", lion_style.MomentumFirst, "lion",
           "the momentum updated before the sign is taken, so the sign uses beta_2's average"),
    Mutant("sgd_ema_momentum", sgd_style.EmaMomentum, "sgd",
           "buf = momentum * buf + (1 - momentum) * g: an average, as Adam's first moment, not torch's sum"),
]
