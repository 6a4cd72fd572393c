"""The network of the small CIFAR run, as the torch tutorials build it:

    Conv2d(3, 32, 5, padding=2) -> MaxPool2d(2) -> Conv2d(32, 32, 5, padding=2) -> MaxPool2d(2)
    -> Conv2d(32, 64, 5, padding=2) -> MaxPool2d(2) -> Flatten -> Linear(1024, 64) -> Linear(64, 10)

with cross-entropy, 145,578 parameters in ten tensors. Parameters are plain float64
arrays in this order; the network is written with torch.nn.functional, so the same
arrays drive the generator and the check. Initialization follows torch's defaults for
these layers (uniform in +-1/sqrt(fan_in), weights and biases) but draws from Python's
seeded random, so it never depends on a torch version.
"""
import math
import random

import numpy as np
import torch
import torch.nn.functional as F

NAMES = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "conv3.weight", "conv3.bias",
         "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
SHAPES = [(32, 3, 5, 5), (32,), (32, 32, 5, 5), (32,), (64, 32, 5, 5), (64,), (64, 1024), (64,), (10, 64), (10,)]
FAN_IN = [75, 75, 800, 800, 800, 800, 1024, 1024, 64, 64]
SIZE = sum(math.prod(s) for s in SHAPES)


def initial_params(seed):
    """The ten parameter tensors at initialization, float64."""
    rng = random.Random(seed)
    tensors = []
    for shape, fan_in in zip(SHAPES, FAN_IN):
        bound = 1 / math.sqrt(fan_in)
        tensors.append(np.array([rng.uniform(-bound, bound) for _ in range(math.prod(shape))]).reshape(shape))
    return tensors


def logits(params, x):
    c1w, c1b, c2w, c2b, c3w, c3b, f1w, f1b, f2w, f2b = params
    x = F.max_pool2d(F.conv2d(x, c1w, c1b, padding=2), 2)
    x = F.max_pool2d(F.conv2d(x, c2w, c2b, padding=2), 2)
    x = F.max_pool2d(F.conv2d(x, c3w, c3b, padding=2), 2)
    return F.linear(F.linear(x.flatten(1), f1w, f1b), f2w, f2b)


def loss_and_gradient(params, images, labels):
    """(mean cross-entropy, gradient per tensor) at float64 ``params``, in float64 on the CPU."""
    leaves = [torch.from_numpy(np.ascontiguousarray(p)).requires_grad_(True) for p in params]
    loss = F.cross_entropy(logits(leaves, torch.from_numpy(images)), torch.from_numpy(labels))
    grads = torch.autograd.grad(loss, leaves)
    return float(loss.detach()), [g.numpy() for g in grads]


@torch.no_grad()
def evaluate(params, images, labels, chunk=500):
    """(mean cross-entropy, accuracy) on uint8 ``images``. In float32: an argmax is not a judged
    quantity, and evaluating the golden and the implementation the same way keeps them comparable."""
    from optgold.golden.cifar.data import to_input

    weights = [torch.tensor(np.asarray(p), dtype=torch.float32) for p in params]
    total_loss, correct = 0.0, 0
    for start in range(0, len(labels), chunk):
        x = torch.from_numpy(to_input(images[start:start + chunk])).float()
        y = torch.from_numpy(labels[start:start + chunk].astype(np.int64))
        out = logits(weights, x)
        total_loss += float(F.cross_entropy(out, y, reduction="sum"))
        correct += int((out.argmax(1) == y).sum())
    return total_loss / len(labels), correct / len(labels)


def evaluate_run(params, run):
    """{"train"|"test": {"loss", "accuracy"}} of ``params`` on a run's evaluation sets (data.RunData)."""
    return {split: dict(zip(("loss", "accuracy"), evaluate(params, *sets)))
            for split, sets in run.evaluation_sets().items()}
