"""A step must leave ``.grad`` as it was given, element for element: code after the step (logging,
a second optimizer, accumulation) reads it. Mutants that change it fail with the tensor and step;
torch's own paths that keep it pass, and the one torch path that breaks it is named."""
import pytest
import torch

from optgold.check import Options, check, check_case
from optgold.golden.load import load_cases
from optgold.kinds import optimizer


class DecayIntoTheGradient(torch.optim.SGD):
    """Weight decay added into .grad in place; the update itself is right."""

    @torch.no_grad()
    def step(self, closure=None):
        decays = [group["weight_decay"] for group in self.param_groups]
        for group in self.param_groups:
            for p in group["params"]:
                p.grad.add_(p, alpha=group["weight_decay"])
            group["weight_decay"] = 0.0
        try:
            return super().step(closure)
        finally:
            for group, decay in zip(self.param_groups, decays):
                group["weight_decay"] = decay


class ClearsItsGradients(torch.optim.Adam):
    def step(self, closure=None):
        loss = super().step(closure)
        self.zero_grad(set_to_none=True)
        return loss


class ClipsInPlace(torch.optim.Adam):
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                p.grad.clamp_(-1e-3, 1e-3)
        return super().step(closure)


def _case(reference, predicate):
    return next(c for c in load_cases(reference) if predicate(c))


def test_weight_decay_added_into_the_gradient_fails_at_step_1_naming_the_tensor():
    case = _case("sgd", lambda c: c.hp["weight_decay"] and not c.hp["maximize"])
    result, _ = check_case(optimizer, DecayIntoTheGradient, case, "replay")
    assert result.status == "failed" and result.first_divergent_step == 1
    assert "changed .grad of tensor 0" in result.message and "in place" in result.message


def test_the_same_mutant_passes_where_it_has_no_decay_to_add():
    case = _case("sgd", lambda c: not c.hp["weight_decay"])
    assert check_case(optimizer, DecayIntoTheGradient, case, "replay")[0].status == "passed"


@pytest.mark.parametrize("impl, text", [(ClearsItsGradients, "to None"), (ClipsInPlace, "in place")])
def test_a_step_that_clears_or_clips_the_gradient_fails(impl, text):
    result, _ = check_case(optimizer, impl, load_cases("adam")[0], "replay")
    assert result.status == "failed" and result.first_divergent_step == 1 and text in result.message


@pytest.mark.parametrize("reference, cls, impl_args", [
    ("sgd", torch.optim.SGD, {"foreach": False}),
    ("adam", torch.optim.Adam, {"foreach": True}),
    ("adamw", torch.optim.AdamW, {"foreach": True}),
    ("sparse_adam", torch.optim.SparseAdam, {}),
    ("lbfgs", torch.optim.LBFGS, {}),
])
def test_torch_paths_that_keep_the_gradient_pass(reference, cls, impl_args):
    assert check(cls, reference, options=Options(impl_args=impl_args, modes=("replay",) if reference != "lbfgs"
                                                 else None, contracts="none")).passed


def test_torch_foreach_sgd_with_nesterov_changes_the_gradient_in_place():
    """torch 2.13's _multi_tensor_sgd adds momentum * buf into the gradients with _foreach_add_
    when nesterov is on and neither maximize nor weight decay made a copy first."""
    case = _case("sgd", lambda c: c.hp["nesterov"] and not c.hp["maximize"] and not c.hp["weight_decay"])
    result, _ = check_case(optimizer, torch.optim.SGD, case, "replay", Options(impl_args={"foreach": True}))
    assert result.status == "failed" and "changed .grad of tensor" in result.message
    plain = _case("sgd", lambda c: not c.hp["nesterov"])
    assert check_case(optimizer, torch.optim.SGD, plain, "replay",
                      Options(impl_args={"foreach": True}))[0].status == "passed"
