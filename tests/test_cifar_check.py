"""The packaged CIFAR goldens: torch's Adam passes a full float32 check, its other paths pass a
shortened one, and Adam's bug mutants that matter on a network fail, naming the step and tensor."""
import pytest
import torch

from functools import partial

from optgold.check import check as check_any

check = partial(check_any, problem="cifar")
from tests.mutants import adam_mutants, adamw_mutants, rmsprop_mutants, sgd_mutants

# Adam's catalogued mutants whose bug a training run of this network exercises. Left out:
# AdamMaximizeOnLr (nobody maximizes a training loss) and AdamAmsgradFromDefaults (the
# run has one param group, where the group's flag and the defaults agree).
REALISTIC = ["AdamEpsInsideSqrt", "AdamBiasCorrectionOffByOne", "AdamNoSecondMomentCorrection",
             "AdamSharedStepCounter", "AdamLerpWeightBeta1", "AdamBetasSwapped", "AdamAmsgradNotStored",
             "AdamDecoupledFlagIgnored", "AdamSecondMomentRawGrad", "AdamLrCachedAtInit"]


@pytest.mark.slow  # 40 s: the shortened runs below keep every path and mutant in the default run
def test_torch_adam_passes_the_full_float32_run():
    report = check(torch.optim.Adam, "adam", dtype="float32")
    assert report.passed, [c.message for c in report.cases]
    assert "synthetic" in report.extra["data"] and "not CIFAR-10" in report.extra["data"]
    for case in report.cases:
        assert case.details["steps_run"] == case.details["steps"] >= 200
        assert case.tolerance_used < 1
        for split in ("train", "test"):  # replay keeps it on the golden: the same accuracy, to an image or two
            impl, golden = case.details["evaluation"], case.details["golden_evaluation"]
            assert abs(impl[split]["accuracy"] - golden[split]["accuracy"]) <= 0.005


@pytest.mark.parametrize("impl_args", [{"foreach": True}, {"fused": True}], ids=["foreach", "fused"])
def test_other_torch_paths_pass_a_shortened_float32_run(impl_args):
    report = check(torch.optim.Adam, "adam", dtype="float32", impl_args=impl_args, steps=25)
    assert report.passed, [c.message for c in report.cases]


@pytest.mark.parametrize("name", REALISTIC)
def test_realistic_adam_mutant_fails_naming_step_and_tensor(name):
    report = check(getattr(adam_mutants, name), "adam", dtype="float32", stop_at_divergence=True, steps=30)
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed and not report.passed
    for case in failed:
        assert case.first_divergent_step is not None and case.details["tensor"] in case.message
        assert f"step {case.first_divergent_step} in {case.details['tensor']}" in case.message


# The other references' runs, shortened: torch passes, and the catalogued bugs the run
# exercises fail. Left out as not exercised: SGD's dampening mutants (no case dampens),
# SGDAliasedBuffer (both SGD cases decay the weights, so the buffer it forgets to clone
# is a fresh gradient-plus-decay tensor, not .grad, and the bug is harmless there), the
# maximize mutants, and the per-group lookups (one param group).
OTHERS = {
    "sgd": (torch.optim.SGD, sgd_mutants, ["SGDDecayOutsideMomentum", "SGDNesterovOldBuffer",
                                           "SGDNesterovNoMomentumFactor", "SGDWeightDecaySign",
                                           "SGDNoDecayOnVectors", "SGDLrCachedAtInit"]),
    "adamw": (torch.optim.AdamW, adamw_mutants, ["AdamWCoupledDecay", "AdamWDecayAfterUpdate",
                                                 "AdamWDecayNotScaledByLr", "AdamWDecayScaledByStepSize",
                                                 "AdamWEpsInsideSqrt", "AdamWDecayOnlyAtInit"]),
    "rmsprop": (torch.optim.RMSprop, rmsprop_mutants, ["RMSpropEpsInsideSqrt", "RMSpropDampenedMomentum",
                                                       "RMSpropCenteredStaleGradAvg"]),
}


@pytest.mark.parametrize("ref_name", sorted(OTHERS))
def test_torch_passes_a_shortened_float32_run_of_every_reference(ref_name):
    report = check(OTHERS[ref_name][0], ref_name, dtype="float32", steps=25)
    assert report.passed, [c.message for c in report.cases]
    assert all(c.details["steps_run"] == 25 for c in report.cases)


@pytest.mark.parametrize("ref_name,name", [(r, n) for r in sorted(OTHERS) for n in OTHERS[r][2]])
def test_realistic_mutants_of_other_references_fail(ref_name, name):
    report = check(getattr(OTHERS[ref_name][1], name), ref_name, dtype="float32", stop_at_divergence=True, steps=30)
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed and not report.passed
    for case in failed:
        assert f"step {case.first_divergent_step} in {case.details['tensor']}" in case.message
