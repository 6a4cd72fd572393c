"""A catalogue of realistic contract bugs: each one computes the formula right and breaks what happens around it.

Every mutant passes the formula grid (its arithmetic is the algorithm's) and fails its
own contract's cases (optgold.contracts) in float64: a resume that loses state, a
frozen parameter that still moves, a launch skipped on an empty tensor, a tensor lr
cached, a complex second moment, an overflowed step taken, a group added later and
never stepped, a weight decay applied once per dtype, a step counter kept in bfloat16.

``CORRECT`` holds the bug-free bases the mutants derive from (hand-written for-loop and
multi-tensor Adam, AdamW and SGD, and torch.optim.Adam itself); they pass every contract
in float64 and float32, so a mutant fails only by its bug. Each mutant's class differs from its base in one
place, marked ``# BUG``; its docstring says what it does and which shipped bug it
models. ``caught_in_float32`` is False where the float32 check was measured not to
catch it, and ``why_not_float32`` then says why.
"""
from dataclasses import dataclass

import torch

from tests.contract_mutants import adam, multi_tensor, sgd, torch_adam


@dataclass(frozen=True)
class Mutant:
    cls: type
    contract: str  # the contract (optgold.contracts.CONTRACTS) whose cases catch it
    reference: str  # the reference optimizer it implements
    shipped: str = ""  # the real bugs it models, where there are some
    caught_in_float32: bool = True
    why_not_float32: str = None

    @property
    def name(self):
        return self.cls.__name__

    @property
    def bug(self):
        return " ".join((self.cls.__doc__ or self.name).split())


@dataclass(frozen=True)
class Correct:
    cls: type
    reference: str

    @property
    def name(self):
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


CORRECT = [
    Correct(adam.Adam, "adam"),
    Correct(adam.AdamW, "adamw"),
    Correct(sgd.SGD, "sgd"),
    Correct(multi_tensor.MultiTensorAdam, "adam"),
    Correct(multi_tensor.MultiTensorAdamW, "adamw"),
    Correct(multi_tensor.MultiTensorSGD, "sgd"),
    Correct(torch.optim.Adam, "adam"),
]

MUTANTS = [
    # resume
    Mutant(torch_adam.ForgetsStateOnLoad, "resume", "adam"),
    Mutant(torch_adam.LoadsStateInHalfPrecision, "resume", "adam"),
    Mutant(torch_adam.StepCastToParameterDtypeOnLoad, "resume", "adam", "pytorch#74424, pytorch#103256"),
    Mutant(adam.StepCountOutsideState, "resume", "adam"),
    Mutant(adam.StepCountResetOnLoad, "resume", "adam", "DeepSpeed PR #4396, transformers#24708"),
    Mutant(adam.LoadsOnlyTheState, "resume", "adam"),
    Mutant(sgd.SGDMomentumOutsideState, "resume", "sgd"),
    # missing_grad
    Mutant(adam.NoneGradAsZero, "missing_grad", "adam"),
    Mutant(adam.StepCountForEveryParameter, "missing_grad", "adam"),
    Mutant(adam.ZeroGradAsMissing, "missing_grad", "adam"),
    Mutant(adam.AdamWDecaysWithoutGrad, "missing_grad", "adamw"),
    Mutant(multi_tensor.BiasCorrectionFromLastParameter, "missing_grad", "adam", "DeepSpeed PR #8471"),
    Mutant(sgd.SGDNoneGradAsZero, "missing_grad", "sgd"),
    # empty_tensors
    Mutant(multi_tensor.EmptyLastTensorSkipsLaunch, "empty_tensors", "adam",
           "pytorch#100701 (#100811, #109402), TransformerEngine#3202, #3207 (PR #3212)"),
    Mutant(multi_tensor.SGDEmptyLastTensorSkipsLaunch, "empty_tensors", "sgd", "TransformerEngine PR #3212"),
    Mutant(adam.NonFiniteGuardByMax, "empty_tensors", "adam"),
    # tensor_hp
    Mutant(adam.TensorLrCachedOnFirstStep, "tensor_hp", "adam"),
    Mutant(adam.TensorLrAugmentedAssignment, "tensor_hp", "adam"),
    Mutant(adam.TensorLrInFloat32, "tensor_hp", "adam", caught_in_float32=False,
           why_not_float32="rounding a float64 lr to float32 is what a float32 run's own lr arithmetic does: both "
                           "tensor_hp rows pass in float32 (measured)"),
    Mutant(adam.TensorBetasInFloat32, "tensor_hp", "adam"),
    # complex
    Mutant(adam.ComplexSquareNoConj, "complex", "adam"),
    Mutant(adam.ComplexModulusSecondMoment, "complex", "adam"),
    Mutant(adam.AdamWComplexSquareNoConj, "complex", "adamw"),
    Mutant(sgd.SGDGradDoubled, "complex", "sgd"),
    # amp
    Mutant(multi_tensor.IgnoresFoundInf, "amp", "adam", "pytorch PR #186360"),
    Mutant(multi_tensor.NotUnscaled, "amp", "adam", "pytorch PR #186360"),
    Mutant(multi_tensor.StepCountOnSkippedStep, "amp", "adam"),
    Mutant(multi_tensor.SkipsByZeroLr, "amp", "adam"),
    Mutant(multi_tensor.FoundInfIgnoredAfterUnscale, "amp", "adam", "pytorch#95781 (PR #95847, #96106)"),
    Mutant(multi_tensor.UnscalesTwiceAfterUnscale, "amp", "adam", "pytorch PR #94060"),
    Mutant(multi_tensor.SGDIgnoresFoundInf, "amp", "sgd"),
    # group_added
    Mutant(adam.OneStepCountPerOptimizer, "group_added", "adam"),
    Mutant(multi_tensor.GroupListsCachedOnFirstStep, "group_added", "adam"),
    Mutant(multi_tensor.SGDGroupListsCachedOnFirstStep, "group_added", "sgd"),
    # mixed_dtypes
    Mutant(multi_tensor.DecayOncePerDtypeSplit, "mixed_dtypes", "adamw", "timm PR #2750"),
    Mutant(multi_tensor.StepCountOncePerDtypeSplit, "mixed_dtypes", "adam", "DeepSpeed PR #8471"),
    Mutant(multi_tensor.SGDMomentumDecayedPerDtypeSplit, "mixed_dtypes", "sgd", "timm PR #2750"),
    # low_precision
    Mutant(adam.StepInDefaultDtype, "low_precision", "adam", "torchao PR #4915, pytorch#110940, DeepSpeed PR #8496"),
    Mutant(adam.AdamWStepInDefaultDtype, "low_precision", "adamw", "torchao PR #4915"),
    # in a float32 check the default dtype is float32, so its betas are rounded there too: the float32 formula
    # grid catches it as well (eps_rosenbrock, amsgrad_deep, warm_restarts_rosenbrock; measured)
    Mutant(adam.BetaPowerInDefaultDtype, "low_precision", "adam"),
    Mutant(adam.StateInDefaultDtype, "low_precision", "adam"),
]
