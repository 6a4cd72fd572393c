"""Which data a CIFAR run uses, and how a run walks through it.

The source is the folder given by --cifar-dir, else $OPTGOLD_CIFAR_DIR, else the
generated synthetic set. A run takes its batches in a seeded order of the training
images (Python's random, so the order never depends on a library version), and is
evaluated on the first images of that order and of the test set. The sha256 of every
image and label a run touches is its data identity: a golden records it, and a check
on other data is refused instead of failing mysteriously.
"""
import hashlib
import os
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from optgold.golden.cifar import binary, synthetic

ENV = "OPTGOLD_CIFAR_DIR"
CIFAR10 = "cifar10"


@dataclass(frozen=True, eq=False)
class CifarData:
    name: str  # "synthetic" or "cifar10"
    description: str  # how reports name it
    train_images: np.ndarray = field(repr=False)  # uint8 (N, 3, 32, 32)
    train_labels: np.ndarray = field(repr=False)
    test_images: np.ndarray = field(repr=False)
    test_labels: np.ndarray = field(repr=False)

    @property
    def synthetic(self):
        return self.name == synthetic.NAME


def resolve_dir(cifar_dir=None):
    """The CIFAR-10 folder named by the option or the environment, or None for the synthetic set."""
    chosen = cifar_dir or os.environ.get(ENV) or None
    return Path(chosen).expanduser() if chosen else None


@lru_cache(maxsize=2)
def _load(directory, file_stats):
    """``file_stats`` (name, size, mtime) is part of the cache key, so a changed file is read again."""
    if directory is None:
        parts = synthetic.generate()
        return CifarData(synthetic.NAME, synthetic.DESCRIPTION, *parts["train"], *parts["test"])
    parts = binary.read_directory(directory)
    train_n, test_n = len(parts["train"][1]), len(parts["test"][1])
    description = f"CIFAR-10 from {directory} ({train_n} training and {test_n} test images)"
    return CifarData(CIFAR10, description, *parts["train"], *parts["test"])


def load(cifar_dir=None):
    """The data a run uses (cached: checks and generation read it once per process)."""
    directory = resolve_dir(cifar_dir)
    if directory is None:
        return _load(None, ())
    train, test = binary.batch_files(directory)
    stats = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in train + [test])
    return _load(directory.resolve(), stats)


def training_order(size, seed):
    order = list(range(size))
    random.Random(seed).shuffle(order)
    return np.array(order)


def to_input(images):
    """uint8 images to float64 network input, normalized to [-1, 1] as the torch tutorials do."""
    return (images.astype(np.float64) / 255 - 0.5) / 0.5


@dataclass(frozen=True, eq=False)
class RunData:
    """The images one run sees: its batches in order, and its evaluation sets."""
    data: CifarData
    batch_size: int
    steps: int
    order: np.ndarray = field(repr=False)  # training indices, one batch after another
    eval_size: int

    def batch(self, t):
        """(float64 images, int64 labels) of step t (0-based)."""
        index = self.order[t * self.batch_size:(t + 1) * self.batch_size]
        return to_input(self.data.train_images[index]), self.data.train_labels[index].astype(np.int64)

    def evaluation_sets(self):
        """{"train": the first eval_size training images of the run, "test": the first test images}."""
        train = self.order[:self.eval_size]
        return {"train": (self.data.train_images[train], self.data.train_labels[train]),
                "test": (self.data.test_images[:self.eval_size], self.data.test_labels[:self.eval_size])}

    def identity(self):
        """sha256 over every image and label this run uses, in the order it uses them."""
        digest = hashlib.sha256()
        used = self.order[:self.batch_size * self.steps]
        digest.update(self.data.train_images[used].tobytes())
        digest.update(self.data.train_labels[used].tobytes())
        for images, labels in self.evaluation_sets().values():
            digest.update(images.tobytes())
            digest.update(labels.tobytes())
        return digest.hexdigest()


def run_data(data, batch_size, steps, order_seed, eval_size):
    """The run's view of ``data``; an epoch that runs out starts again in the same order."""
    order = training_order(len(data.train_labels), order_seed)
    eval_size = min(eval_size, len(order), len(data.test_labels))
    return RunData(data, batch_size, steps, np.resize(order, max(batch_size * steps, len(order))), eval_size)
