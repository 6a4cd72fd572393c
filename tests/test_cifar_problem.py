"""The CIFAR problem: the network, its gradient, the synthetic set, the schedule, the fingerprint."""
import math

import numpy as np
import pytest
import torch

from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import fingerprint, model, schedule, synthetic
from optgold.golden.cifar.grid import GRID, warmup_cosine


def test_the_network_is_the_tutorial_one():
    assert model.SIZE == 145_578 and len(model.SHAPES) == len(model.NAMES) == 10
    params = model.initial_params(1)
    assert [p.shape for p in params] == model.SHAPES
    logits = model.logits([__import__("torch").from_numpy(p) for p in params],
                          __import__("torch").zeros(2, 3, 32, 32, dtype=__import__("torch").float64))
    assert tuple(logits.shape) == (2, 10)


def test_initialization_is_seeded_and_within_torch_default_bounds():
    a, b, c = model.initial_params(1), model.initial_params(1), model.initial_params(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    for p, fan_in in zip(a, model.FAN_IN):
        assert np.abs(p).max() <= 1 / math.sqrt(fan_in) and p.std() > 0.4 / math.sqrt(fan_in)


def test_gradient_matches_a_finite_difference():
    params = model.initial_params(3)
    images, labels = synthetic.generate(train_size=4, test_size=1)["train"]
    x, y = cifar_data.to_input(images), labels.astype(np.int64)
    _, grads = model.loss_and_gradient(params, x, y)
    rng = np.random.default_rng(0)
    direction = [rng.standard_normal(p.shape) for p in params]
    h = 1e-7  # small: max-pooling is only piecewise smooth, and a larger step moves its argmax
    plus = model.loss_and_gradient([p + h * d for p, d in zip(params, direction)], x, y)[0]
    minus = model.loss_and_gradient([p - h * d for p, d in zip(params, direction)], x, y)[0]
    analytic = sum(float((g * d).sum()) for g, d in zip(grads, direction))
    assert abs((plus - minus) / (2 * h) - analytic) <= 1e-6 * max(1.0, abs(analytic))


def test_synthetic_set_is_deterministic_and_cifar_shaped():
    a = synthetic.generate(train_size=30, test_size=10)
    b = synthetic.generate(train_size=30, test_size=10)
    for split in ("train", "test"):
        np.testing.assert_array_equal(a[split][0], b[split][0])
        np.testing.assert_array_equal(a[split][1], b[split][1])
    images, labels = a["train"]
    assert images.shape == (30, 3, 32, 32) and images.dtype == np.uint8 and set(labels.tolist()) == set(range(10))


def test_synthetic_set_has_class_structure():
    """Nearest class mean, on raw pixels, already beats chance twice over: the classes differ."""
    parts = synthetic.generate(train_size=1000, test_size=300)
    train, labels = parts["train"][0].reshape(1000, -1).astype(float), parts["train"][1]
    means = np.stack([train[labels == c].mean(axis=0) for c in range(10)])
    test, test_labels = parts["test"][0].reshape(300, -1).astype(float), parts["test"][1]
    guess = np.argmin(((test[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert (guess == test_labels).mean() > 0.2  # chance is 0.1


def test_data_identity_sees_one_changed_pixel():
    data = cifar_data.load()
    run = cifar_data.run_data(data, 4, 3, 2, 20)
    before = run.identity()
    images = data.train_images.copy()
    images[run.order[5], 1, 2, 3] ^= 1
    changed = cifar_data.CifarData(data.name, data.description, images, data.train_labels, data.test_images,
                                   data.test_labels)
    assert cifar_data.run_data(changed, 4, 3, 2, 20).identity() != before
    assert data.synthetic and "not CIFAR-10" in data.description


def test_warmup_cosine_schedule():
    rates = schedule.learning_rates(warmup_cosine(4, 0.02, steps=20), 0.2, 20)
    assert len(rates) == 20 and rates[0] == pytest.approx(0.05) and rates[3] == pytest.approx(0.2)
    assert rates[-1] == 0.02 and all(a >= b for a, b in zip(rates[3:], rates[4:]))
    assert schedule.learning_rates(None, 0.3, 3) == [0.3] * 3


def test_a_schedule_that_sets_more_than_the_lr_is_refused():
    cycle = {"scheduler": "one_cycle_lr", "hp": {"max_lr": 0.1, "total_steps": 10}}
    with pytest.raises(ValueError, match="sets the lr alone"):
        schedule.learning_rates(cycle, 0.01, 10)


def _torch_sequential_lrs(spec, lr, steps):
    """The lr of each optimizer step under torch's own SequentialLR(LinearLR, CosineAnnealingLR), stepped
    after each optimizer step as a training loop does."""
    linear, cosine = spec["hp"]["schedulers"]
    assert spec["scheduler"] == "sequential_lr"
    assert (linear["scheduler"], cosine["scheduler"]) == ("linear_lr", "cosine_annealing_lr")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    subs = [torch.optim.lr_scheduler.LinearLR(optimizer, **linear["hp"]),
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, **cosine["hp"])]
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, subs, milestones=spec["hp"]["milestones"])
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


SCHEDULED = [c for cases in GRID.values() for c in cases if c.schedule]


@pytest.mark.parametrize("case", SCHEDULED, ids=[f"{c.reference}/{c.id}" for c in SCHEDULED])
def test_case_lrs_are_torch_sequential_lr_bit_for_bit(case):
    expected = _torch_sequential_lrs(case.schedule, case.hp["lr"], case.steps)
    rates = schedule.learning_rates(case.schedule, case.hp["lr"], case.steps)
    assert all(type(r) is float for r in rates) and rates == expected  # ==: bit for bit
    assert expected[1:] != rates[:-1] and expected[:-1] != rates[1:]  # one step early or late would fail
    warmup = case.schedule["hp"]["milestones"][0] + 1
    assert rates[warmup - 1] == case.hp["lr"] and rates[-1] == case.schedule["hp"]["schedulers"][1]["hp"]["eta_min"]


def test_the_schedules_cover_warmup_then_cosine_and_constant():
    assert {(c.reference, c.id) for c in SCHEDULED} == {("sgd", "momentum_cosine"), ("adam", "l2_cosine")}
    assert all(c.schedule is None for cases in GRID.values() for c in cases if c not in SCHEDULED)


def test_fingerprint_moves_with_one_element_and_within_its_stated_bound():
    shapes = [(6, 5), (7,)]
    signs = fingerprint.directions(shapes)
    rng = np.random.default_rng(1)
    tensors = [rng.standard_normal(s) for s in shapes]
    before = fingerprint.fingerprint(tensors, signs)
    tensors[0][2, 3] += 1e-9
    after = fingerprint.fingerprint(tensors, signs)
    assert (np.abs(after[0, 2:] - before[0, 2:]) > 0).all() and np.array_equal(after[1], before[1])
    assert (np.abs(after - before)[0] <= math.sqrt(30) * 1e-9 * (1 + 1e-6)).all()
    assert np.array_equal(signs[0], fingerprint.directions(shapes)[0]) and set(np.unique(signs[0])) == {-1.0, 1.0}
