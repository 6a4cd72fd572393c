"""The implementation is given every case hyperparameter it accepts, and must keep it."""
import functools
import importlib

import pytest
import torch
from torch.optim import Optimizer

from optgold import hyperparameters as hyper
from optgold import reference
from optgold.golden.load import load_cases
from optgold.reference import capabilities

SGD_DEFAULTS = reference.get("sgd").DEFAULTS
LAMB_DEFAULTS = reference.get("lamb").DEFAULTS
TORCH_REFERENCES = [name for name, module in reference.OPTIMIZERS.items() if capabilities.of(module).torch]


def _torch_class(name):
    module, attr = capabilities.of(reference.get(name)).torch.split(":")
    return getattr(importlib.import_module(module), attr)


def _params(case):
    tensors = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in case.shapes]
    return [{"params": [tensors[k] for k in g["tensors"]], **g["hp"]} for g in case.groups] or tensors


def _p():
    return [torch.zeros(2, requires_grad=True)]


class SGDWithoutNesterov(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      maximize=maximize))


class LibraryLamb(Optimizer):
    """A library LAMB: its own default weight_decay is 0.01, not torch's/the reference's 0."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))


class StubbornLamb(Optimizer):
    """Takes weight_decay, and stores its own default regardless."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=0.01))


class FlattenedGroups(Optimizer):
    """Overwrites every group's lr with the constructor's, losing per-group overrides."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))
        for group in self.param_groups:
            group["lr"] = lr


def sgd_case(**changes):
    return {**SGD_DEFAULTS, **changes}


def test_the_torch_classes_are_found():
    assert {"sgd", "adam", "adamw", "lbfgs"} <= set(TORCH_REFERENCES)


@pytest.mark.parametrize("name", TORCH_REFERENCES)
def test_torch_optim_class_is_given_and_keeps_every_hyperparameter_of_every_case(name):
    cls, module = _torch_class(name), reference.get(name)
    for case in load_cases(name):
        kwargs = hyper.construction_kwargs(cls, case.hp, module.DEFAULTS, {}, case.groups)
        assert kwargs == case.hp
        assert hyper.mismatches(cls(_params(case), **kwargs), case.hp, case.groups) == []


def test_factory_with_var_keywords_gets_every_hyperparameter():
    def factory(params, **hp):
        return torch.optim.SGD(params, **hp)

    hp = sgd_case(momentum=0.9)
    assert hyper.accepted(factory) is None
    assert hyper.construction_kwargs(factory, hp, SGD_DEFAULTS) == hp


def test_unreadable_signature_means_every_hyperparameter_is_passed():
    assert hyper.accepted(max) is None  # a builtin: inspect.signature raises ValueError
    assert hyper.construction_kwargs(max, sgd_case(), SGD_DEFAULTS) == sgd_case()


def test_positional_only_parameters_cannot_be_passed_by_name():
    def factory(params, lr, /, momentum=0.0):
        return torch.optim.SGD(params, lr, momentum=momentum)

    assert hyper.accepted(factory) == {"momentum"}


def test_class_without_nesterov_omits_it_at_the_default():
    kwargs = hyper.construction_kwargs(SGDWithoutNesterov, sgd_case(momentum=0.9), SGD_DEFAULTS)
    assert "nesterov" not in kwargs
    assert kwargs == {k: v for k, v in sgd_case(momentum=0.9).items() if k != "nesterov"}
    SGDWithoutNesterov(_p(), **kwargs)


def test_class_without_nesterov_skips_a_case_that_needs_it_with_the_reason():
    with pytest.raises(hyper.Skip) as raised:
        hyper.construction_kwargs(SGDWithoutNesterov, sgd_case(momentum=0.9, nesterov=True), SGD_DEFAULTS)
    assert str(raised.value) == ("the implementation takes no `nesterov`, and this case needs nesterov=True "
                                 "(torch's default False)")
    assert isinstance(raised.value, NotImplementedError)  # skipped like an implementation's own refusal


def test_a_group_override_the_class_cannot_take_skips():
    groups = ({"tensors": [0], "hp": {}}, {"tensors": [1], "hp": {"nesterov": True}})
    with pytest.raises(hyper.Skip, match=r"param group 1 of this case needs nesterov=True \(torch's default False\)"):
        hyper.construction_kwargs(SGDWithoutNesterov, sgd_case(momentum=0.9), SGD_DEFAULTS, groups=groups)


def test_library_lamb_is_given_the_torch_default_explicitly_and_matches():
    hp = {**LAMB_DEFAULTS, "lr": 0.01}
    kwargs = hyper.construction_kwargs(LibraryLamb, hp, LAMB_DEFAULTS)
    assert kwargs["weight_decay"] == 0.0
    optimizer = LibraryLamb(_p(), **kwargs)
    assert optimizer.param_groups[0]["weight_decay"] == 0.0
    assert hyper.mismatches(optimizer, hp) == []


def test_class_that_stores_its_own_default_is_a_mismatch_naming_key_group_and_values():
    hp = {**LAMB_DEFAULTS, "lr": 0.01}
    optimizer = StubbornLamb(_p(), **hyper.construction_kwargs(StubbornLamb, hp, LAMB_DEFAULTS))
    assert hyper.mismatches(optimizer, hp) == ["param group 0 holds weight_decay=0.01, the case sets 0.0"]


def test_lost_per_group_override_is_a_mismatch():
    tensors = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    groups = ({"tensors": [0], "hp": {}}, {"tensors": [1], "hp": {"lr": 0.01}})
    hp = sgd_case(lr=0.1)
    params = [{"params": [tensors[k] for k in g["tensors"]], **g["hp"]} for g in groups]
    assert hyper.mismatches(torch.optim.SGD(params, **hp), hp, groups) == []
    params = [{"params": [tensors[k] for k in g["tensors"]], **g["hp"]} for g in groups]
    assert hyper.mismatches(FlattenedGroups(params, **hp), hp, groups) == [
        "param group 1 holds lr=0.1, the case sets 0.01 for that group"]


def test_a_different_number_of_groups_is_a_mismatch():
    groups = ({"tensors": [0], "hp": {}}, {"tensors": [1], "hp": {"lr": 0.01}})
    assert hyper.mismatches(torch.optim.SGD(_p(), lr=0.1), sgd_case(lr=0.1), groups) == [
        "the optimizer holds 1 param group, the case has 2"]


def test_impl_args_are_always_passed_and_override():
    kwargs = hyper.construction_kwargs(SGDWithoutNesterov, sgd_case(lr=0.1), SGD_DEFAULTS,
                                       {"lr": 0.5, "foreach": True, "nesterov": True})
    assert kwargs["lr"] == 0.5 and kwargs["foreach"] is True and kwargs["nesterov"] is True


def test_partial_takes_what_its_function_takes():
    bound = functools.partial(SGDWithoutNesterov, maximize=False)
    with pytest.raises(hyper.Skip, match="nesterov"):
        hyper.construction_kwargs(bound, sgd_case(momentum=0.9, nesterov=True), SGD_DEFAULTS)
    kwargs = hyper.construction_kwargs(functools.partial(torch.optim.SGD, foreach=False), sgd_case(), SGD_DEFAULTS)
    assert kwargs == sgd_case()


def test_callable_object_takes_what_its_call_takes():
    class Factory:
        def __call__(self, params, lr=1e-3, momentum=0.0):
            return torch.optim.SGD(params, lr=lr, momentum=momentum)

    assert hyper.accepted(Factory()) == {"params", "lr", "momentum"}
    kwargs = hyper.construction_kwargs(Factory(), sgd_case(lr=0.1, momentum=0.9), SGD_DEFAULTS)
    assert kwargs == {"lr": 0.1, "momentum": 0.9}
    with pytest.raises(hyper.Skip, match=r"takes no `weight_decay`, and this case needs weight_decay=0.5"):
        hyper.construction_kwargs(Factory(), sgd_case(weight_decay=0.5), SGD_DEFAULTS)


def test_tuples_compare_elementwise_and_lists_equal_tuples():
    assert hyper.same([0.9, 0.999], (0.9, 0.999))
    assert not hyper.same((0.9, 0.99), (0.9, 0.999))
    assert not hyper.same((0.9,), (0.9, 0.999))
    assert not hyper.same(0.9, (0.9, 0.999))
    assert hyper.same((None, 1e-3), (None, 1e-3))


def test_floats_compare_exactly_and_tensors_by_their_value():
    assert not hyper.same(0.0010000001, 0.001)
    assert hyper.same(0, 0.0)
    assert hyper.same(torch.tensor(0.001, dtype=torch.float64), 0.001)
    assert hyper.same(torch.tensor(0.001, dtype=torch.float32), 0.001)  # the tensor is the value passed
    assert not hyper.same(torch.tensor(0.002), 0.001)
    assert hyper.same((torch.tensor(0.9), torch.tensor(0.999)), (0.9, 0.999))


def test_bools_compare_by_value():
    assert hyper.same(True, True) and not hyper.same(False, True) and not hyper.same(None, True)


def test_expected_none_lets_the_implementation_choose():
    # torch's LBFGS stores max_eval=None as max_iter * 5 // 4
    optimizer = torch.optim.LBFGS(_p(), max_iter=20, max_eval=None)
    assert optimizer.param_groups[0]["max_eval"] == 25
    assert hyper.mismatches(optimizer, {"max_iter": 20, "max_eval": None}) == []


def test_a_tensor_lr_held_by_the_optimizer_matches_its_float():
    optimizer = torch.optim.Adam(_p(), lr=torch.tensor(0.01))
    assert hyper.mismatches(optimizer, {"lr": 0.01}) == []
    assert hyper.mismatches(optimizer, {"lr": 0.02}) == ["param group 0 holds lr=0.009999999776482582, "
                                                         "the case sets 0.02"]


def test_a_key_stored_under_another_name_is_not_a_mismatch():
    class Renamed(Optimizer):
        def __init__(self, params, lr=1e-3, weight_decay=0.0):
            super().__init__(params, dict(lr=lr, wd=0.5))

    assert hyper.mismatches(Renamed(_p(), lr=0.1, weight_decay=0.0), {"lr": 0.1, "weight_decay": 0.0}) == []


def test_a_snapshot_of_the_groups_is_read_like_the_optimizer():
    snapshot = [{"lr": 0.1, "weight_decay": 0.01}]
    assert hyper.mismatches(snapshot, {"lr": 0.1, "weight_decay": 0.0}) == [
        "param group 0 holds weight_decay=0.01, the case sets 0.0"]


def test_an_object_without_param_groups_has_nothing_to_compare():
    assert hyper.mismatches(object(), sgd_case()) == []


def test_describe_is_one_short_line():
    assert hyper.describe({"lr": 0.001, "betas": (0.9, 0.999), "amsgrad": False, "max_eval": None}) == (
        "lr=0.001, betas=(0.9, 0.999), amsgrad=False, max_eval=None")
    groups = ({"tensors": [0], "hp": {}}, {"tensors": [1], "hp": {"lr": 0.01}})
    assert hyper.describe({"lr": 0.1}, groups) == "lr=0.1; param group 1: lr=0.01"
    assert hyper.describe({"line_search_fn": "strong_wolfe"}) == "line_search_fn='strong_wolfe'"
