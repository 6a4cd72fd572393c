"""The CIFAR-10 binary format: data_batch_1.bin .. data_batch_5.bin and test_batch.bin.

Each file is a sequence of 3073-byte records: one label byte (0..9), then 3072 pixel
bytes, the 1024 red values of the 32x32 image in row-major order, then green, then
blue. A file that is not a whole number of records, or holds a label above 9, is
rejected with an error that names it. Nothing here downloads anything.
"""
import re
from pathlib import Path

import numpy as np

from optgold.reference.errors import UsageError

IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32
CLASSES = 10
TRAIN_PATTERN = re.compile(r"data_batch_(\d+)\.bin")
TEST_FILE = "test_batch.bin"
SUBFOLDER = "cifar-10-batches-bin"  # what the official archive unpacks to


class CifarDataError(UsageError):
    """CIFAR-10 data is missing, truncated or malformed; the message says which file and what to do."""


def read_batch(path):
    """(images uint8 (N, 3, 32, 32), labels uint8 (N,)) of one binary batch file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CifarDataError(f"{path}: no such file") from None
    except OSError as error:
        raise CifarDataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not data:
        raise CifarDataError(f"{path}: the file is empty; expected {RECORD_BYTES}-byte CIFAR-10 records")
    records, extra = divmod(len(data), RECORD_BYTES)
    if extra:
        raise CifarDataError(f"{path}: {len(data)} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 "
                             f"records ({records} records and {extra} bytes over): the file is truncated or not "
                             "in the CIFAR-10 binary format")
    table = np.frombuffer(data, dtype=np.uint8).reshape(records, RECORD_BYTES)
    labels = table[:, 0].copy()
    bad = np.nonzero(labels >= CLASSES)[0]
    if bad.size:
        raise CifarDataError(f"{path}: record {int(bad[0])} has label {int(labels[bad[0]])}, not 0..9: the file "
                             "is not in the CIFAR-10 binary format (CIFAR-100 has two label bytes)")
    return table[:, 1:].reshape((records, *IMAGE_SHAPE)).copy(), labels


def write_batch(path, images, labels):
    """Write records in the CIFAR-10 binary format (tests write real-format files with it)."""
    images, labels = np.asarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.uint8)
    table = np.concatenate([labels.reshape(-1, 1), images.reshape(len(images), -1)], axis=1)
    Path(path).write_bytes(table.tobytes())


def batch_files(directory):
    """(training files in batch order, test file) in a CIFAR-10 binary folder, or its parent."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CifarDataError(f"CIFAR-10 folder {directory} does not exist (set by --cifar-dir or OPTGOLD_CIFAR_DIR)")
    if (directory / SUBFOLDER).is_dir() and not (directory / TEST_FILE).exists():
        directory = directory / SUBFOLDER
    train = sorted((int(m.group(1)), p) for p in directory.iterdir() if (m := TRAIN_PATTERN.fullmatch(p.name)))
    missing = [name for name, present in (("data_batch_*.bin", train), (TEST_FILE, (directory / TEST_FILE).exists()))
               if not present]
    if missing:
        raise CifarDataError(f"{directory} holds no {' and no '.join(missing)}: point --cifar-dir (or "
                             f"OPTGOLD_CIFAR_DIR) at the unpacked CIFAR-10 binary version ({SUBFOLDER})")
    return [p for _, p in train], directory / TEST_FILE


def read_directory(directory):
    """{"train": (images, labels), "test": (images, labels)} from every batch file in the folder."""
    train_files, test_file = batch_files(directory)
    parts = [read_batch(p) for p in train_files]
    train = (np.concatenate([images for images, _ in parts]), np.concatenate([labels for _, labels in parts]))
    return {"train": train, "test": read_batch(test_file), "files": [p.name for p in train_files + [test_file]]}
