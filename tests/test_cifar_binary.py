"""The CIFAR-10 binary reader, on files written here in the real format, and its errors."""
import numpy as np
import pytest

from optgold.golden.cifar import binary
from optgold.golden.cifar.binary import CifarDataError, read_batch, read_directory
from optgold.cli import main


def images_and_labels(count, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, count, dtype=np.uint8)


def write_folder(folder, train_batches=3, per_file=5):
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for k in range(1, train_batches + 1):
        written[k] = images_and_labels(per_file, k)
        binary.write_batch(folder / f"data_batch_{k}.bin", *written[k])
    written["test"] = images_and_labels(per_file, 99)
    binary.write_batch(folder / "test_batch.bin", *written["test"])
    return written


def test_record_layout_is_label_then_red_green_blue_planes(tmp_path):
    record = bytearray(binary.RECORD_BYTES)
    record[0] = 7
    record[1] = 11  # red, row 0, column 0
    record[2] = 12  # red, row 0, column 1
    record[1 + 32] = 13  # red, row 1, column 0
    record[1 + 1024] = 21  # green, row 0, column 0
    record[1 + 2048 + 1023] = 31  # blue, row 31, column 31
    (tmp_path / "one.bin").write_bytes(bytes(record) * 2)
    images, labels = read_batch(tmp_path / "one.bin")
    assert images.shape == (2, 3, 32, 32) and images.dtype == np.uint8 and labels.tolist() == [7, 7]
    assert (images[0, 0, 0, 0], images[0, 0, 0, 1], images[0, 0, 1, 0]) == (11, 12, 13)
    assert (images[0, 1, 0, 0], images[0, 2, 31, 31]) == (21, 31)


def test_folder_round_trip_in_batch_order(tmp_path):
    written = write_folder(tmp_path)
    parts = read_directory(tmp_path)
    train_images, train_labels = parts["train"]
    np.testing.assert_array_equal(train_images, np.concatenate([written[k][0] for k in (1, 2, 3)]))
    np.testing.assert_array_equal(train_labels, np.concatenate([written[k][1] for k in (1, 2, 3)]))
    np.testing.assert_array_equal(parts["test"][0], written["test"][0])
    assert parts["files"] == ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "test_batch.bin"]


def test_the_unpacked_archive_parent_folder_works_too(tmp_path):
    write_folder(tmp_path / binary.SUBFOLDER, train_batches=1)
    assert len(read_directory(tmp_path)["train"][1]) == 5


@pytest.mark.parametrize("damage, fragment", [
    (lambda p: p.write_bytes(p.read_bytes()[:-100]), "not a whole number of 3073-byte"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_bytes(b"\x0c" + p.read_bytes()[1:]), "label 12, not 0..9"),
])
def test_truncated_or_malformed_files_name_the_file(tmp_path, damage, fragment):
    write_folder(tmp_path)
    damage(tmp_path / "data_batch_2.bin")
    with pytest.raises(CifarDataError, match=fragment) as caught:
        read_directory(tmp_path)
    assert "data_batch_2.bin" in str(caught.value)


def test_missing_folder_and_missing_files(tmp_path):
    with pytest.raises(CifarDataError, match="does not exist"):
        read_directory(tmp_path / "nowhere")
    write_folder(tmp_path)
    (tmp_path / "test_batch.bin").unlink()
    with pytest.raises(CifarDataError, match="no test_batch.bin"):
        read_directory(tmp_path)


@pytest.mark.parametrize("command", [
    ["check", "torch.optim:Adam", "--reference", "adam", "--problem", "cifar"],
    ["generate", "--problem", "cifar"],
])
def test_cli_bad_data_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, command):
    write_folder(tmp_path / "truncated")
    path = tmp_path / "truncated" / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:5000])
    assert main(command + ["--cifar-dir", str(tmp_path / "truncated"), "--golden-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "test_batch.bin" in err and "truncated" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("OPTGOLD_CIFAR_DIR", str(tmp_path / "missing"))
    assert main(command + ["--golden-dir", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
