"""The keras adapter: Keras optimizers on the torch backend, judged against the references."""
import os
import subprocess
import sys

import pytest

import optgold.adapters.keras as keras_adapter

keras_adapter.use_torch_backend()  # before keras is imported, as loading an IMPL from keras does

keras = pytest.importorskip("keras", reason="keras is not installed (pip install -e .[keras])")

from optgold import adapters  # noqa: E402
from optgold.check import check  # noqa: E402
from optgold.reference.errors import UsageError  # noqa: E402
from tests.keras_mutants import CORRECT, MUTANTS  # noqa: E402

FAST = dict(modes=("replay",), contracts="none")
# a case that proves a seam of the adapter runs: a torch scheduler's lr set each step
RUN_THROUGH = {"adam": {"warm_restarts_rosenbrock"}}


def failures(report):
    return [c for c in report.cases if c.status == "failed"]


def test_a_keras_optimizer_is_claimed_and_a_torch_one_is_not():
    import torch

    assert adapters.select(keras.optimizers.Adam) == "keras"
    assert adapters.select(CORRECT["sgd"]) == "keras"
    assert adapters.select(torch.optim.Adam) == "torch"


def test_the_worker_gets_the_torch_backend_without_being_told():
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    shown = subprocess.run([sys.executable, "-c", "import os, sys, optgold.adapters, optgold.pytest_plugin; "
                            "print(os.environ.get('KERAS_BACKEND')); from optgold.loading import load_impl; "
                            "load_impl('keras.optimizers:Adam'); print(sys.modules['keras'].backend.backend())"],
                           env=environment, capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["None", "torch"]  # importing optgold sets nothing; loading a keras IMPL does


def test_keras_imported_with_another_backend_is_one_line_naming_the_fix(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(UsageError, match="set KERAS_BACKEND=torch") as raised:
        keras_adapter._keras()
    assert "\n" not in str(raised.value)


def test_torch_names_become_keras_names():
    assert keras_adapter.keras_hyperparameters("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, momentum=0.5,
                                                               centered=True, maximize=False), "float64") == dict(
        learning_rate=0.01, rho=0.9, epsilon=1e-3, momentum=0.5, centered=True)
    assert keras_adapter.keras_hyperparameters("AdamW", dict(lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1),
                                               "float32") == dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.99,
                                                                  weight_decay=0.1)


def test_each_param_group_steps_with_its_own_hyperparameters():
    import numpy as np

    adapter = keras_adapter.KerasOptimizerAdapter(
        keras.optimizers.SGD, dict(lr=0.1), np.ones(3), [(2,), (1,)], "float64", "cpu",
        groups=({"tensors": [0], "hp": {}}, {"tensors": [1], "hp": {"lr": 0.5}}))
    adapter.step(np.ones(3))
    assert adapter.flat_params().tolist() == [0.9, 0.9, 0.5]
    assert [g["lr"] for g in adapter.hyperparameter_groups()] == [0.1, 0.5]


@pytest.mark.parametrize("class_name, hp, reason", [
    ("SGD", dict(lr=0.1, dampening=0.5), "dampening=0.5"),
    ("Adam", dict(lr=0.1, maximize=True), "maximize=True"),
    ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=False), "L2 added to the gradient"),
])
def test_what_keras_cannot_express_is_not_implemented(class_name, hp, reason):
    with pytest.raises(NotImplementedError, match=reason):
        keras_adapter.keras_hyperparameters(class_name, hp, "float64")


def test_keras_adam_is_diagnosed_as_epsilon_hat():
    report = check(keras.optimizers.Adam, "adam", dtype="float64", **FAST)
    assert failures(report) and all("keras_epsilon_hat" in c.message for c in failures(report))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reference", sorted(CORRECT))
def test_correct_keras_style_class_passes(reference, dtype):
    report = check(CORRECT[reference], reference, dtype=dtype, **FAST)
    assert report.passed, [c.message for c in report.cases if c.status != "passed"]
    passed = {c.id for c in report.cases if c.status == "passed"}
    assert len(passed) >= 3 and RUN_THROUGH.get(reference, set()) <= passed


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(mutant, dtype):
    found = failures(check(mutant.cls, mutant.reference, dtype=dtype, **FAST))
    assert found and all(c.first_divergent_step is not None for c in found)
