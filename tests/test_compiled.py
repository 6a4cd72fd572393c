"""--compile: a torch optimizer's step under torch.compile (inductor on CPU), judged on the same goldens."""
import pytest
import torch

from optgold.adapters.compiled import CompiledTorchAdapter
from optgold.check import check
from tests.mutants import adam_mutants


SOME = ("betas_rosenbrock", "eps_rosenbrock", "warm_restarts_rosenbrock")  # each compile costs seconds on CPU


def _failed(report):
    return [c for c in report.cases if c.status == "failed"]


def test_compiled_adam_passes_the_float64_grid_and_reports_its_compiling():
    report = check(torch.optim.Adam, "adam", compile=True, modes=("replay",), contracts="none", cases=SOME)
    assert report.passed and max(c.tolerance_used for c in report.cases) < 0.5, [c.message for c in _failed(report)]
    assert report.settings["adapter"] == "compiled"
    notes = [c.message for c in report.cases]
    assert all("compiled with torch.compile (inductor): 1 graph(s) in 1 step(s), 0 recompile(s)" in n for n in notes)
    # a schedule changes the lr tensor's value, not the graph: the warm-restart case compiles once


def test_compiled_adam_in_float32_computes_its_bias_corrections_in_float32():
    """Under torch.compile, torch's Adam keeps the step count a float32 tensor, and 1 - 0.999^t is a
    float32 difference (eager reads the step as a Python float): the beta2 = 0.999 cases fail at step 1,
    nearest to the float32_bias_correction variant (named outright only where rounding allows: not in a
    float32 run, whose own rounding is 1e-3 of the distance to the reference)."""
    report = check(torch.optim.Adam, "adam", compile=True, dtype="float32", modes=("replay",), contracts="none",
                   cases=SOME)
    failed = _failed(report)
    assert {c.id for c in failed} == {"eps_rosenbrock", "warm_restarts_rosenbrock"}  # beta2 0.999; lr 0.01 and 0.02
    assert all(c.first_divergent_step == 1 for c in failed)
    assert all(c.diagnosis.nearest[0][0] == "float32_bias_correction" for c in failed)


class AdamLrReadOnce(adam_mutants.Adam):
    """Reads each group's lr once, as a Python number, at its first step: a graph compiled around it
    keeps it, and a schedule is ignored (pytorch#106802's kind of bug)."""

    def update(self, p, grad, state, group):
        group.setdefault("first_lr", float(group["lr"]))
        super().update(p, grad, state, {**group, "lr": group["first_lr"]})  # BUG: the lr of step 1 forever


def test_an_lr_baked_in_at_the_first_step_is_caught_under_compile():
    report = check(AdamLrReadOnce, "adam", compile=True, modes=("replay",), contracts="none",
                   cases=("betas_rosenbrock", "warm_restarts_rosenbrock"))
    failed = _failed(report)
    assert [c.id for c in failed] == ["warm_restarts_rosenbrock"]


class AdamParamsListedOnce(adam_mutants.Adam):
    """Lists the parameters that have gradients once, at the first step, and steps that list ever after:
    a fixed list keeps a compiled (or CUDA-graph-captured) step from retracing, and a param group added
    later (or a tensor without a gradient at step 1) is then never updated."""

    @torch.no_grad()
    def step(self, closure=None):
        if not hasattr(self, "listed"):
            self.listed = [(p, g) for g in self.param_groups for p in g["params"] if p.grad is not None]  # BUG
        for p, group in ((p, g) for p, g in self.listed if p.grad is not None):
            if not self.state[p]:
                self.init_state(p, self.state[p], group)
            self.update(p, p.grad, self.state[p], group)


class AdamStepAsFloat32Tensor(adam_mutants.Adam):
    """Keeps the step count as a float32 tensor, so that a compiled step does not recompile as it grows
    (torchao's choice): in a float64 run the bias corrections are then float32."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        state["step"] = torch.zeros((), dtype=torch.float32)  # BUG: 1 - beta2**step in float32

    def update(self, p, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if group["weight_decay"] or group["amsgrad"] or group["maximize"]:
            raise NotImplementedError("the mutant keeps to plain Adam")
        state["step"] += 1
        step = state["step"]
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (state["exp_avg_sq"].sqrt() / (1 - beta2 ** step).sqrt()).add_(eps)
        p.addcdiv_(state["exp_avg"], denom * (1 - beta1 ** step) / lr, value=-1.0)


def test_a_parameter_list_fixed_at_the_first_step_is_caught_eagerly_and_hidden_by_compile():
    """Eagerly the joined group is never stepped, and the check fails it at step 11. Under torch 2.13's
    compile the attribute the step sets on the optimizer (``self.listed``) does not outlive the call, so
    each step lists the parameters again and the bug does not show: compiled and eager runs of the same
    code differ, and the rows say so (one graph per step)."""
    eager = check(AdamParamsListedOnce, "adam", contracts="group_added", modes=("replay",),
                  cases=("group_added/at_11",))
    assert eager.cases[0].status == "failed" and eager.cases[0].first_divergent_step == 11
    compiled = check(AdamParamsListedOnce, "adam", compile=True, contracts="group_added", modes=("replay",),
                     cases=("group_added/at_11",))
    assert compiled.cases[0].status == "passed" and "recompile(s)" in compiled.cases[0].message


def test_a_float32_step_tensor_is_caught_in_float64_and_named():
    report = check(AdamStepAsFloat32Tensor, "adam", compile=True, modes=("replay",), contracts="none",
                   cases=("eps_rosenbrock",))
    [case] = report.cases
    assert case.status == "failed" and case.first_divergent_step == 1
    assert case.diagnosis.variant == "float32_bias_correction"


def test_a_closure_is_not_compiled():
    with pytest.raises(NotImplementedError, match="compiles steps fed one gradient"):
        CompiledTorchAdapter.step_closure(None, None)


@pytest.mark.parametrize("name, words", [
    ("adadelta", "state step diverge at step 1, tensor 0[]: observed 0, expected 1"),
    ("asgd", "eta diverge at step 1"),
])
def test_compiled_steps_that_lose_their_scalar_state_in_float64_are_caught(name, words):
    """torch 2.13: under a float64 default dtype, compiled Adadelta (RMSprop, Rprop too) never advances
    its step tensor and compiled ASGD never updates eta (README, "Compiled steps"); float32 passes."""
    from optgold.golden.load import load_cases

    first = load_cases(name)[0].id
    report = check(getattr(torch.optim, {"adadelta": "Adadelta", "asgd": "ASGD"}[name]), name, compile=True,
                   modes=("replay",), contracts="none", cases=(first,))
    assert [c.status for c in report.cases] == ["failed"] and words in report.cases[0].message
