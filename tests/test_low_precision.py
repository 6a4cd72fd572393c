"""bfloat16 and float16: each step judged from the implementation's own params and state (optgold.local)."""
import pytest
import torch

from optgold import reference
from optgold.check import Options, check, validate
from optgold.kinds import optimizer, scheduler
from optgold.reference import capabilities
from optgold.reference.errors import UsageError
from optgold.torch_paths import available_paths, torch_class
from tests.mutants import adam_mutants

# judged elsewhere or not yet: Muon's bfloat16 Newton-Schulz (tests/test_torch_paths.py), a closure (LBFGS)
# and sparse gradients (SparseAdam) have no single step walked from read-back state yet
CLASSES = {name: torch_class(module) for name, module in reference.OPTIMIZERS.items()
           if torch_class(module) and name != "muon" and not capabilities.of(module).closure
           and not capabilities.of(module).sparse_gradients}
PATHS = [pytest.param(name, path, kwargs, id=f"{name}-{path}")
         for name, cls in CLASSES.items() for path, kwargs in available_paths(cls).items()]
# measured failures, (reference, path, dtype): (why, words of the failure)
KNOWN = {
    ("sgd", "foreach", "bfloat16"): ("torch 2.13's _multi_tensor_sgd adds momentum * buf into the gradients in "
                                     "place with nesterov (tests/test_torch_paths.py)", "changed .grad of tensor"),
    **{("sgd", "fused", d): ("torch bug: CPU fused SGD in bfloat16 and float16 is off on its first step for tensors "
                             "of 16 elements and more (its vectorised path), by up to 0.1 against forloop",
                             "params (one step from the implementation's own state) diverge at step 1")
       for d in ("bfloat16", "float16")},
    # measured (betas_isotropic, step 86, tensor 1[2]): m_hat * lr = -3.22e-7 is stored as -2.98e-7, five
    # float16 subnormal spacings (6e-8), and then multiplied by adaptive_lr * rect: the update is 7.4% short
    ("radam", "forloop", "float16"): ("torch's _single_tensor_radam forms bias_corrected_exp_avg * lr as a float16 "
                                      "tensor first: below 6.1e-5 it is subnormal, with 2 or 3 significant bits, "
                                      "and the factors after it carry that error into the update (foreach "
                                      "multiplies in another order and passes)", "diverge"),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name, path, kwargs", PATHS)
def test_torch_paths_in_low_precision(name, path, kwargs, dtype):
    report = check(CLASSES[name], name, dtype=dtype, impl_args=kwargs, modes=("replay",))
    failed = [c for c in report.cases if c.status == "failed"]
    if (name, path, dtype) in KNOWN:
        words = KNOWN[(name, path, dtype)][1]
        assert failed and all(words in c.message for c in failed), [c.message for c in failed]
        return
    assert not failed, [f"{c.id}: {c.message}" for c in failed]
    passed = [c for c in report.cases if c.status == "passed"]
    assert passed and max(c.tolerance_used for c in passed) < 0.5
    assert all(c.contract is None for c in report.cases)  # contract cases are float64 and float32's


class AdamStepInParamDtype(adam_mutants.Adam):
    """The step count kept as a tensor of the parameter's dtype: the bias corrections are then computed
    in bfloat16 (off from step 1), and the count stops at 256."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        state["step"] = torch.zeros((), dtype=p.dtype)  # BUG: a bfloat16 counter


@pytest.mark.parametrize("mutant, step", [(AdamStepInParamDtype, 1),
                                           (adam_mutants.AdamNoSecondMomentCorrection, 1),
                                           (adam_mutants.AdamBetasSwapped, 1),
                                           (adam_mutants.AdamSharedStepCounter, 1)])
def test_mutants_are_caught_in_bfloat16(mutant, step):
    report = check(mutant, "adam", dtype="bfloat16", modes=("replay",))
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed and min(c.first_divergent_step for c in failed) == step, [c.message for c in failed]


def test_the_correct_base_passes_in_bfloat16():
    report = check(adam_mutants.Adam, "adam", dtype="bfloat16")
    assert report.passed and max(c.tolerance_used for c in report.cases) < 0.5


def test_float16_skips_a_case_its_range_cannot_hold():
    report = check(torch.optim.Adam, "adam", dtype="float16", modes=("replay",))
    skipped = [c for c in report.cases if c.status == "skipped"]
    assert skipped and all("beyond a quarter of float16's largest number" in c.message for c in skipped)
    assert report.passed


@pytest.mark.parametrize("kind, fields, words", [
    (scheduler, {"dtype": "bfloat16"}, "the scheduler kind checks float64, float32"),
    (optimizer, {"dtype": "float16", "contracts": "resume"}, "no contract cases in float16"),
])
def test_low_precision_settings_that_cannot_run_are_usage_errors(kind, fields, words):
    with pytest.raises(UsageError, match=words):
        validate(Options(**fields), kind)


class AdamWithMasterWeights(adam_mutants.Adam):
    """Adam keeping a float32 master copy of each low-precision parameter and float32 state, as apex's
    master_weights and torchao's mixed precision do: the update goes to the master, which is rounded
    into the parameter."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        state["master"] = p.detach().float()
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            if key in state:
                state[key] = state[key].float()

    def update(self, p, grad, state, group):
        master = state["master"]
        super().update(master, self.promote(grad), state, group)
        p.copy_(master)

    def promote(self, grad):
        return grad.float()


class MasterWeightsIgnored(AdamWithMasterWeights):
    """Says it keeps master weights, and updates the bfloat16 parameter itself (apex#1728)."""

    def update(self, p, grad, state, group):
        master = state["master"]
        master.copy_(p)  # BUG: the master is taken back from the rounded parameter every step
        super().update(p, grad, state, group)


class StateInBfloat16(AdamWithMasterWeights):
    """float32 master weights, but the moments stored in bfloat16, where float32 was promised."""

    def update(self, p, grad, state, group):
        super().update(p, grad, state, group)
        for key in ("exp_avg", "exp_avg_sq"):
            state[key].copy_(state[key].to(torch.bfloat16))  # BUG: rounded to bfloat16 at every store


class DecoupledDecayOnTheRoundedParameter(AdamWithMasterWeights):
    """Decoupled weight decay applied to the bfloat16 parameter, not to the master (the decay is done
    where the low-precision path keeps its tensors, bitsandbytes#2010's kind of ordering bug): the
    master never decays."""

    def update(self, p, grad, state, group):
        if group["decoupled_weight_decay"] and group["weight_decay"]:
            p.mul_(1 - group["lr"] * group["weight_decay"])  # BUG: the master, which p is copied from, is not
            group = {**group, "weight_decay": 0.0}
        super().update(p, grad, state, group)


class MasterWeightsStepInBfloat16(AdamWithMasterWeights):
    """float32 master weights and moments, but the step count a bfloat16 tensor: the bias corrections
    are computed in bfloat16."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        state["step"] = torch.zeros((), dtype=torch.bfloat16)  # BUG: the count in the parameter's dtype


def test_float32_master_weights_pass_and_torch_which_keeps_none_fails():
    report = check(AdamWithMasterWeights, "adam", dtype="bfloat16", master_weights="float32")
    assert report.passed and max(c.tolerance_used for c in report.cases if c.status == "passed") < 0.5
    assert {c.mode for c in report.cases if c.status == "passed"} == {"replay"}
    assert all("no golden holds" in c.message for c in report.cases if c.mode == "free")
    plain = check(torch.optim.Adam, "adam", dtype="bfloat16", master_weights="float32", modes=("replay",))
    assert not plain.passed  # torch's Adam rounds every step into the bfloat16 parameter


@pytest.mark.parametrize("mutant", [MasterWeightsIgnored, StateInBfloat16, DecoupledDecayOnTheRoundedParameter,
                                    MasterWeightsStepInBfloat16])
def test_master_weight_mutants_are_caught(mutant):
    report = check(mutant, "adam", dtype="bfloat16", master_weights="float32", modes=("replay",))
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed and all(c.first_divergent_step is not None for c in failed)


def test_master_weights_need_a_low_precision_dtype():
    with pytest.raises(UsageError, match="master weights are kept for bfloat16 or float16"):
        validate(Options(master_weights="float32"), optimizer)
