"""Scenarios around the steps: torch's own optimizers keep their contract, realistic breaches fail at their step."""
import pytest
import torch

from optgold import kinds, scenarios
from optgold.check import check
from optgold.golden.load import load_cases
from optgold.reference import capabilities
from optgold.scenarios import resume
from optgold.torch_paths import torch_class

# torch's Muon runs Newton-Schulz in bfloat16 and fails its plain golden already (tests/test_torch_paths.py)
TORCH_REFERENCES = [name for name, module in kinds.KINDS["optimizer"].references().items()
                    if capabilities.of(module).torch and name != "muon"]


@pytest.mark.parametrize("name", TORCH_REFERENCES)
def test_torch_optimizers_survive_a_resume_from_their_state_dict(name):
    module = kinds.KINDS["optimizer"].references()[name]
    modes = ("free",) if capabilities.of(module).closure else ("replay",)
    report = check(torch_class(module), name, modes=modes, scenario="resume")
    assert report.passed, [c.message for c in report.cases if c.status != "passed"]
    assert all(c.mode.endswith("+resume") for c in report.cases)


class ForgetsStateOnLoad(torch.optim.Adam):
    """load_state_dict keeps the hyperparameters and drops the moments (a checkpoint format bug)."""

    def load_state_dict(self, state_dict):
        super().load_state_dict({**state_dict, "state": {}})


class StepCountOutsideState(torch.optim.Optimizer):
    """An Adam keeping its step counter on the object, which no state_dict carries: bias correction restarts."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False):
        if weight_decay or amsgrad or maximize:
            raise NotImplementedError("plain Adam only")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.calls = 0

    @torch.no_grad()
    def step(self, closure=None):
        self.calls += 1
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["exp_avg"], state["exp_avg_sq"] = torch.zeros_like(p), torch.zeros_like(p)
                state["exp_avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** self.calls)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** self.calls)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


class LoadsStateInHalfPrecision(torch.optim.Adam):
    """Casts the loaded moments to bfloat16, as a checkpoint written in low precision would."""

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for state in self.state.values():
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state:
                    state[key] = state[key].to(torch.bfloat16).to(state[key].dtype)


@pytest.mark.parametrize("mutant", [ForgetsStateOnLoad, StepCountOutsideState, LoadsStateInHalfPrecision])
def test_a_broken_resume_fails_right_after_the_restart(mutant):
    report = check(mutant, "adam", modes=("replay",), scenario="resume")
    cases = {c.id: c for c in load_cases("adam")}
    hp = {c.id: cases[c.id].hp for c in report.cases}
    plain = [c for c in report.cases if not (hp[c.id]["amsgrad"] or hp[c.id]["weight_decay"] or hp[c.id]["maximize"]
                                             or cases[c.id].groups)]
    assert plain and all(c.status == "failed" for c in plain), [c.message for c in plain if c.status != "failed"]
    for c in plain:
        assert c.first_divergent_step == resume.resume_step(cases[c.id]), c.message


def test_the_correct_mutant_bases_pass_without_a_resume():
    """The breaches are in the restart only: stepped plainly, the same classes pass."""
    for mutant in (ForgetsStateOnLoad, LoadsStateInHalfPrecision):
        assert check(mutant, "adam", modes=("replay",)).passed


def test_a_scenario_a_kind_does_not_run_is_skipped_with_the_reason():
    report = check(torch.optim.lr_scheduler.StepLR, "step_lr", scenario="resume")
    assert {c.status for c in report.cases} == {"skipped"} and "no 'resume' scenario" in report.cases[0].message


def test_unknown_scenario_is_a_usage_error():
    from optgold.reference.errors import UsageError

    with pytest.raises(UsageError, match="unknown scenario 'nope'; known: plain, resume"):
        scenarios.get("nope")
