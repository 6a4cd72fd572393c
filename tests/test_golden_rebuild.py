"""Every missing or corrupt golden is a one-line error that names the exact command rebuilding it.

Optimizer and scheduler goldens: `optgold generate`, with `--golden-dir DIR` outside the packaged
folder. CIFAR goldens: `optgold generate --problem cifar`, with `--cifar-dir` for real CIFAR-10 and
`--golden-dir ROOT` when they live in ROOT/cifar or ROOT/cifar10. The command line exits 2 on each.
"""
import json
import shlex
import shutil

import numpy as np
import pytest

from optgold.cli import main
from optgold.golden import load, store
from optgold.golden.cifar import binary, synthetic
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import load as cifar_load
from optgold.golden.cifar.generate import GENERATOR_VERSION as CIFAR_GENERATOR_VERSION
from optgold.golden.generate import GENERATOR_VERSION

PACKAGED = store.PACKAGED_DIR
QUADRATIC_FILES = ["MANIFEST.json", "sgd.npz", "schedule_step_lr.npz"]


def copy_goldens(source, target, names):
    target.mkdir(parents=True)
    for name in names:
        shutil.copyfile(source / name, target / name)
    return target


@pytest.fixture
def quadratic(tmp_path):
    """A golden folder holding copies of the packaged SGD and StepLR goldens and the whole manifest."""
    return copy_goldens(PACKAGED, tmp_path / "goldens", QUADRATIC_FILES)


@pytest.fixture
def cifar_root(tmp_path):
    """A golden root whose cifar/ holds a copy of the packaged CIFAR goldens of SGD."""
    copy_goldens(PACKAGED / "cifar", tmp_path / "root" / "cifar", ["MANIFEST.json", "sgd.npz"])
    return tmp_path / "root"


def edit_manifest(directory, change):
    path = directory / store.MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def rewrite(directory, name, change, version):
    """Rewrite one golden through store.write, so its hash is consistent and only its content is wrong."""
    meta, arrays = store.read(directory, name)
    change(meta, arrays)
    store.write(directory, {name: (meta, arrays)}, version, merge=True)


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def replace_consistently(directory, name, data):
    """Other bytes for a golden, with the manifest's hash updated to match them."""
    (directory / name).write_bytes(data)
    edit_manifest(directory, lambda m: m["files"][name].update(sha256=store.sha256(data)))


def first_case(meta):
    return meta["cases"][0]


# Each corruption: (what it does to a golden folder, the words the error must contain).
CORRUPTIONS = {
    "missing manifest": (lambda d, name, v: (d / store.MANIFEST).unlink(), "no golden manifest at"),
    "missing file": (lambda d, name, v: (d / name).unlink(), "is missing"),
    "unlisted file": (lambda d, name, v: edit_manifest(d, lambda m: m["files"].pop(name)), None),
    "hash mismatch": (lambda d, name, v: flip_byte(d / name), "sha256 does not match the manifest"),
    "format version": (lambda d, name, v: edit_manifest(d, lambda m: m.update(format_version=2)),
                       "golden format 2 is not 1"),
    "corrupt manifest": (lambda d, name, v: (d / store.MANIFEST).write_text('{"files": '), "corrupt manifest"),
    "malformed manifest": (lambda d, name, v: edit_manifest(d, lambda m: m["files"][name].pop("sha256")),
                           "malformed manifest"),
    "unreadable archive": (lambda d, name, v: replace_consistently(d, name, b"not a zip"),
                           "unreadable golden archive"),
    "malformed metadata": (lambda d, name, v: rewrite(d, name, lambda meta, a: first_case(meta).pop("steps"), v),
                           "malformed case metadata (KeyError('steps'))"),
    "misshapen array": (lambda d, name, v: rewrite(d, name, lambda meta, a: a.update(
        {k: a[k][:-1] for k in a if k.endswith("/drift/float64") or k.endswith("/drift")}), v),
                        "is missing, misshapen or not finite"),
    "not finite": (lambda d, name, v: rewrite(d, name, lambda meta, a: a.update(
        {k: np.full_like(a[k], np.nan) for k in a if k.endswith("/drift/float64") or k.endswith("/drift")}), v),
                   "is missing, misshapen or not finite"),
    "hyperparameters": (lambda d, name, v: rewrite(d, name, lambda meta, a: first_case(meta)["hp"].pop("lr"), v),
                        "do not match the reference's"),
}


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("optgold: error: ")
    return err


# -- optimizer goldens --------------------------------------------------------------------------

@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_optimizer_golden_errors_name_the_rebuild_command(quadratic, corruption, capsys):
    corrupt, words = CORRUPTIONS[corruption]
    corrupt(quadratic, "sgd.npz", GENERATOR_VERSION)
    command = f"`optgold generate --golden-dir {quadratic}`"
    with pytest.raises(store.GoldenError) as raised:
        load.load_cases("sgd", quadratic)
    message = str(raised.value)
    assert message.endswith(command) and "\n" not in message
    assert (words or f"lists no sgd.npz") in message
    assert main(["check", "torch.optim:SGD", "--reference", "sgd", "--golden-dir", str(quadratic)]) == 2
    assert one_line_error(capsys) == f"optgold: error: {message}\n"


@pytest.mark.parametrize("corruption", ["missing file", "hash mismatch", "missing manifest", "format version"])
def test_scheduler_golden_store_errors_name_the_rebuild_command(quadratic, corruption, capsys):
    CORRUPTIONS[corruption][0](quadratic, "schedule_step_lr.npz", GENERATOR_VERSION)
    argv = ["check", "torch.optim.lr_scheduler:StepLR", "--reference", "step_lr", "--golden-dir", str(quadratic)]
    assert main(argv) == 2
    assert one_line_error(capsys).endswith(f" with `optgold generate --golden-dir {quadratic}`\n")


def test_packaged_folder_is_rebuilt_by_plain_generate(quadratic, monkeypatch, capsys):
    monkeypatch.delenv("OPTGOLD_GOLDEN_DIR", raising=False)
    monkeypatch.setattr(store, "PACKAGED_DIR", quadratic)  # the copy stands in for the packaged goldens
    (quadratic / "sgd.npz").unlink()
    assert main(["check", "torch.optim:SGD", "--reference", "sgd"]) == 2
    assert one_line_error(capsys) == (f"optgold: error: golden file {quadratic / 'sgd.npz'} is missing; "
                                      "regenerate with `optgold generate`\n")


def test_golden_dir_from_the_environment_is_named_on_the_command(quadratic, monkeypatch, capsys):
    monkeypatch.setenv("OPTGOLD_GOLDEN_DIR", str(quadratic))
    flip_byte(quadratic / "sgd.npz")
    assert main(["check", "torch.optim:SGD", "--reference", "sgd"]) == 2
    assert one_line_error(capsys).endswith(f"regenerate with `optgold generate --golden-dir {quadratic}`\n")


def test_a_folder_with_a_space_is_quoted_for_the_shell(tmp_path):
    directory = copy_goldens(PACKAGED, tmp_path / "my goldens", QUADRATIC_FILES)
    (directory / "sgd.npz").unlink()
    with pytest.raises(store.GoldenError) as raised:
        load.load_cases("sgd", directory)
    command = str(raised.value).rsplit("`", 2)[1]
    assert command == f"optgold generate --golden-dir '{directory}'"
    assert shlex.split(command) == ["optgold", "generate", "--golden-dir", str(directory)]


def test_rebuild_command_tells_the_packaged_folder_from_others(tmp_path):
    assert store.rebuild_command(PACKAGED) == "optgold generate"
    assert store.rebuild_command(PACKAGED / "." / "cifar" / "..") == "optgold generate"
    assert store.rebuild_command(tmp_path) == f"optgold generate --golden-dir {tmp_path}"


# -- CIFAR goldens ------------------------------------------------------------------------------

@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_cifar_golden_errors_name_the_cifar_rebuild_command(cifar_root, corruption, capsys):
    directory = cifar_root / "cifar"
    corrupt, words = CORRUPTIONS[corruption]
    corrupt(directory, "sgd.npz", CIFAR_GENERATOR_VERSION)
    command = f"`optgold generate --problem cifar --golden-dir {cifar_root}`"
    with pytest.raises(store.GoldenError) as raised:
        cifar_load.load_cases("sgd", directory, cifar_data.load())
    message = str(raised.value)
    assert message.endswith(command) and "\n" not in message
    assert (words or "holds no CIFAR golden for reference 'sgd'") in message
    argv = ["check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar", "--golden-dir", str(cifar_root)]
    assert main(argv) == 2
    assert one_line_error(capsys) == f"optgold: error: {message}\n"


def test_packaged_cifar_folder_is_rebuilt_by_generate_problem_cifar(cifar_root, monkeypatch, capsys):
    monkeypatch.delenv("OPTGOLD_GOLDEN_DIR", raising=False)
    monkeypatch.delenv("OPTGOLD_CIFAR_DIR", raising=False)
    monkeypatch.setattr(store, "PACKAGED_DIR", cifar_root)  # so the packaged CIFAR folder is cifar_root/cifar
    (cifar_root / "cifar" / store.MANIFEST).unlink()
    assert main(["check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar"]) == 2
    assert one_line_error(capsys) == (f"optgold: error: no golden manifest at {cifar_root / 'cifar' / 'MANIFEST.json'}"
                                      "; build the goldens with `optgold generate --problem cifar`\n")


def test_another_network_names_the_cifar_command(cifar_root):
    rewrite(cifar_root / "cifar", "sgd.npz", lambda meta, a: first_case(meta)["names"].reverse(),
            CIFAR_GENERATOR_VERSION)
    with pytest.raises(store.GoldenError, match="goldens for another network") as raised:
        cifar_load.load_cases("sgd", cifar_root / "cifar", cifar_data.load())
    assert str(raised.value).endswith(f"; regenerate with `optgold generate --problem cifar --golden-dir {cifar_root}`")


def test_a_reference_without_a_cifar_run_is_not_told_to_regenerate(cifar_root):
    with pytest.raises(store.GoldenError) as raised:
        cifar_load.load_cases("lion", cifar_root / "cifar", cifar_data.load())
    assert str(raised.value) == (f"{cifar_root / 'cifar'} holds no CIFAR golden for reference 'lion' (it covers: "
                                 "adam, adamw, rmsprop, sgd); the CIFAR run has no 'lion' case")


@pytest.fixture
def cifar10_folder(tmp_path):
    """A small folder in the CIFAR-10 binary format."""
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    parts = synthetic.generate(train_size=40, test_size=20, seed=5)
    binary.write_batch(folder / "data_batch_1.bin", *parts["train"])
    binary.write_batch(folder / "test_batch.bin", *parts["test"])
    return folder


def test_cifar10_goldens_name_the_data_folder_and_the_golden_root(cifar_root, cifar10_folder, capsys):
    copy_goldens(PACKAGED / "cifar", cifar_root / "cifar10", ["sgd.npz"])  # no manifest
    argv = ["check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar", "--golden-dir", str(cifar_root),
            "--cifar-dir", str(cifar10_folder)]
    assert main(argv) == 2
    assert one_line_error(capsys).endswith(
        f"; build the goldens with `optgold generate --problem cifar --cifar-dir {cifar10_folder.resolve()} "
        f"--golden-dir {cifar_root}`\n")


def test_cifar10_goldens_in_the_cache_name_only_the_data_folder(tmp_path, cifar10_folder, monkeypatch, capsys):
    monkeypatch.delenv("OPTGOLD_GOLDEN_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("OPTGOLD_CIFAR_DIR", str(cifar10_folder))
    assert main(["check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar"]) == 2
    assert one_line_error(capsys) == (
        f"optgold: error: no golden manifest at {tmp_path / 'cache' / 'optgold' / 'cifar10' / 'MANIFEST.json'}; "
        f"build the goldens with `optgold generate --problem cifar --cifar-dir {cifar10_folder.resolve()}`\n")


def test_goldens_of_other_data_name_the_command_for_this_data(cifar_root, cifar10_folder):
    """Synthetic-set goldens where the CIFAR-10 ones are looked for: build them from this folder."""
    copy_goldens(PACKAGED / "cifar", cifar_root / "cifar10", ["MANIFEST.json", "sgd.npz"])
    data = cifar_data.load(cifar10_folder)
    with pytest.raises(store.GoldenError, match="generated from other data") as raised:
        cifar_load.load_cases("sgd", cifar_root / "cifar10", data)
    assert str(raised.value).endswith(
        f"; build goldens from this data with `optgold generate --problem cifar --cifar-dir "
        f"{cifar10_folder.resolve()} --golden-dir {cifar_root}`")


def test_the_data_folder_is_read_back_from_the_data(cifar10_folder, tmp_path):
    assert cifar_load.data_dir(cifar_data.load(cifar10_folder)) == cifar10_folder.resolve()
    assert cifar_load.data_dir(cifar_data.load(tmp_path)) == tmp_path.resolve()  # the parent of the unpacked folder
    assert cifar_load.data_dir(cifar_data.load(None)) is None


def test_cifar_rebuild_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    command = cifar_load.rebuild_command
    assert command(PACKAGED / "cifar", "synthetic") == "optgold generate --problem cifar"
    assert command(tmp_path / "cifar", "synthetic") == f"optgold generate --problem cifar --golden-dir {tmp_path}"
    assert command(tmp_path / "cache" / "optgold" / "cifar10", "cifar10", "/d") == \
        "optgold generate --problem cifar --cifar-dir /d"
    assert command(tmp_path / "g" / "cifar10", "cifar10", "/d") == \
        f"optgold generate --problem cifar --cifar-dir /d --golden-dir {tmp_path / 'g'}"


def test_a_loaded_cifar_case_carries_its_rebuild_command(cifar_root):
    """Errors raised after loading (the re-walk of golden/cifar/walk.py) can name it too."""
    cases = cifar_load.load_cases("sgd", cifar_root / "cifar", cifar_data.load())
    assert {c.rebuild for c in cases} == {f"optgold generate --problem cifar --golden-dir {cifar_root}"}
