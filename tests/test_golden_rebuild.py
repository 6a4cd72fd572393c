"""Every missing or corrupt golden is a one-line error that names the exact command rebuilding it,
and running that command fixes it.

Optimizer and scheduler goldens: `optgold generate`, with `--golden-dir DIR` outside the packaged
folder. CIFAR goldens: `optgold generate --problem cifar`, with `--cifar-dir` for real CIFAR-10 and
`--golden-dir ROOT` when they live in ROOT/cifar or ROOT/cifar10. The command line exits 2 on each.
An installed package's goldens are restored by reinstalling it, and `optgold generate` without a
folder never writes into it: it writes to the user cache and says how to use that.

The named command is run here through the command line (`fixed`): the CIFAR goldens are built from a
tiny grid, and the optimizer and scheduler generator is replaced by one that hands back the packaged
goldens, the bytes the real one makes (tests/test_golden_store.py proves that, in minutes).
"""
import json
import shlex
import shutil
import sys

import numpy as np
import pytest

from optgold.cli import main
from optgold.golden import generate, load, schedules, store
from optgold.golden.cifar import binary, synthetic
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import generate as cifar_generate
from optgold.golden.cifar import load as cifar_load
from optgold.golden.cifar.generate import GENERATOR_VERSION as CIFAR_GENERATOR_VERSION
from optgold.golden.cifar.grid import _case
from optgold.golden.generate import GENERATOR_VERSION

PACKAGED = store.PACKAGED_DIR
QUADRATIC_FILES = ["MANIFEST.json", "sgd.npz", "schedule_step_lr.npz"]
TINY_CIFAR = {"sgd": [_case("sgd", "tiny_nesterov", dict(lr=0.01, momentum=0.9, nesterov=True), steps=4,
                            batch_size=4, eval_size=40)]}


@pytest.fixture(autouse=True)
def quick_generation(monkeypatch):
    """`optgold generate` in seconds: the optimizer and scheduler goldens are the packaged ones of
    SGD and StepLR, the CIFAR goldens those of a tiny grid (see the module docstring)."""
    shipped = {name: store.read(PACKAGED, name) for name in QUADRATIC_FILES[1:]}
    stems = {"sgd.npz": "sgd", "schedule_step_lr.npz": "step_lr"}

    def build(names=None, certify=True, progress=None):
        return {name: golden for name, golden in shipped.items() if names is None or stems[name] in names}

    monkeypatch.setattr(generate, "build", build)
    monkeypatch.setattr(cifar_generate, "GRID", TINY_CIFAR)
    monkeypatch.delenv("OPTGOLD_GOLDEN_DIR", raising=False)
    monkeypatch.delenv("OPTGOLD_CIFAR_DIR", raising=False)


def named_command(message):
    """The command an error names: the text between its last pair of backticks."""
    return message.rsplit("`", 2)[1]


def fixed(message, capsys, *loads):
    """Run the command ``message`` names, as a shell would; then each of ``loads`` must succeed."""
    argv = shlex.split(named_command(message))
    assert argv[:2] == ["optgold", "generate"], argv
    assert main(argv[1:]) == 0, capsys.readouterr()
    capsys.readouterr()
    for read in loads:
        assert read()


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
    fixed(message, capsys, lambda: load.load_cases("sgd", quadratic))


# Corruptions of a scheduler golden's content: (what it does, the words the error must contain).
SCHEDULE_CORRUPTIONS = {
    "misshapen quantity": (lambda d, name, v: rewrite(d, name, lambda meta, a: a.update(
        {k: a[k][:-1] for k in a if k.endswith("/lr")}), v), "is missing, misshapen or not finite"),
    "hyperparameters": (lambda d, name, v: rewrite(d, name, lambda meta, a: first_case(meta)["hp"].pop("gamma"), v),
                        "hyperparameters or quantities do not match the reference"),
    "malformed metadata": (lambda d, name, v: rewrite(d, name, lambda meta, a: first_case(meta).pop("steps"), v),
                           "malformed case metadata (KeyError('steps'))"),
}
STORE_CORRUPTIONS = ["missing manifest", "missing file", "unlisted file", "hash mismatch", "format version",
                     "corrupt manifest", "malformed manifest", "unreadable archive"]


@pytest.mark.parametrize("corruption", STORE_CORRUPTIONS + sorted(SCHEDULE_CORRUPTIONS))
def test_scheduler_golden_store_errors_name_the_rebuild_command(quadratic, corruption, capsys):
    corrupt, words = {**CORRUPTIONS, **SCHEDULE_CORRUPTIONS}[corruption]
    corrupt(quadratic, "schedule_step_lr.npz", GENERATOR_VERSION)
    with pytest.raises(store.GoldenError) as raised:
        schedules.load_cases("step_lr", quadratic)
    assert (words or "lists no schedule_step_lr.npz") in str(raised.value)
    argv = ["check", "torch.optim.lr_scheduler:StepLR", "--reference", "step_lr", "--golden-dir", str(quadratic)]
    assert main(argv) == 2
    message = one_line_error(capsys)
    assert message.endswith(f" with `optgold generate --golden-dir {quadratic}`\n")
    fixed(message, capsys, lambda: schedules.load_cases("step_lr", quadratic))


def test_packaged_folder_is_rebuilt_by_plain_generate(quadratic, monkeypatch, capsys):
    monkeypatch.delenv("OPTGOLD_GOLDEN_DIR", raising=False)
    monkeypatch.setattr(store, "PACKAGED_DIR", quadratic)  # the copy stands in for the packaged goldens
    (quadratic / "sgd.npz").unlink()
    assert main(["check", "torch.optim:SGD", "--reference", "sgd"]) == 2
    message = one_line_error(capsys)
    assert message == (f"optgold: error: golden file {quadratic / 'sgd.npz'} is missing; "
                       "regenerate with `optgold generate`\n")
    fixed(message, capsys, lambda: load.load_cases("sgd"))


def test_golden_dir_from_the_environment_is_named_on_the_command(quadratic, monkeypatch, capsys):
    monkeypatch.setenv("OPTGOLD_GOLDEN_DIR", str(quadratic))
    flip_byte(quadratic / "sgd.npz")
    assert main(["check", "torch.optim:SGD", "--reference", "sgd"]) == 2
    message = one_line_error(capsys)
    assert message.endswith(f"regenerate with `optgold generate --golden-dir {quadratic}`\n")
    fixed(message, capsys, lambda: load.load_cases("sgd"))


def test_a_folder_with_a_space_is_quoted_for_the_shell(tmp_path, capsys):
    directory = copy_goldens(PACKAGED, tmp_path / "my goldens", QUADRATIC_FILES)
    (directory / "sgd.npz").unlink()
    with pytest.raises(store.GoldenError) as raised:
        load.load_cases("sgd", directory)
    command = named_command(str(raised.value))
    assert command == f"optgold generate --golden-dir '{directory}'"
    assert shlex.split(command) == ["optgold", "generate", "--golden-dir", str(directory)]
    fixed(str(raised.value), capsys, lambda: load.load_cases("sgd", directory))


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
    fixed(message, capsys, lambda: cifar_load.load_cases("sgd", directory, cifar_data.load()))


def test_packaged_cifar_folder_is_rebuilt_by_generate_problem_cifar(cifar_root, monkeypatch, capsys):
    monkeypatch.delenv("OPTGOLD_GOLDEN_DIR", raising=False)
    monkeypatch.delenv("OPTGOLD_CIFAR_DIR", raising=False)
    monkeypatch.setattr(store, "PACKAGED_DIR", cifar_root)  # so the packaged CIFAR folder is cifar_root/cifar
    (cifar_root / "cifar" / store.MANIFEST).unlink()
    assert main(["check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar"]) == 2
    message = one_line_error(capsys)
    assert message == (f"optgold: error: no golden manifest at {cifar_root / 'cifar' / 'MANIFEST.json'}"
                       "; build the goldens with `optgold generate --problem cifar`\n")
    data = cifar_data.load()
    fixed(message, capsys, lambda: cifar_load.load_cases("sgd", cifar_load.golden_dir(None, data.name), data))


@pytest.mark.parametrize("problem", [[], ["--problem", "cifar"]])
def test_generate_check_without_goldens_names_the_command_that_builds_them(tmp_path, problem, capsys):
    directory = tmp_path / "empty"
    assert main(["generate", "--check", "--golden-dir", str(directory), *problem]) == 2
    message = one_line_error(capsys)
    expected = ["optgold", "generate", *problem, "--golden-dir", str(directory)]
    assert shlex.split(named_command(message)) == expected and "no golden manifest at" in message
    fixed(message, capsys, lambda: main(["generate", "--check", "--golden-dir", str(directory), *problem]) == 0)


def test_another_fingerprint_names_the_cifar_command(cifar_root, capsys):
    rewrite(cifar_root / "cifar", "sgd.npz", lambda meta, a: first_case(meta)["fingerprint"].update(seed=-1),
            CIFAR_GENERATOR_VERSION)
    with pytest.raises(store.GoldenError, match="goldens with another fingerprint") as raised:
        cifar_load.load_cases("sgd", cifar_root / "cifar", cifar_data.load())
    assert named_command(str(raised.value)) == f"optgold generate --problem cifar --golden-dir {cifar_root}"
    fixed(str(raised.value), capsys, lambda: cifar_load.load_cases("sgd", cifar_root / "cifar", cifar_data.load()))


def test_another_network_names_the_cifar_command(cifar_root, capsys):
    rewrite(cifar_root / "cifar", "sgd.npz", lambda meta, a: first_case(meta)["names"].reverse(),
            CIFAR_GENERATOR_VERSION)
    with pytest.raises(store.GoldenError, match="goldens for another network") as raised:
        cifar_load.load_cases("sgd", cifar_root / "cifar", cifar_data.load())
    assert str(raised.value).endswith(f"; regenerate with `optgold generate --problem cifar --golden-dir {cifar_root}`")
    fixed(str(raised.value), capsys, lambda: cifar_load.load_cases("sgd", cifar_root / "cifar", cifar_data.load()))


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
    message = one_line_error(capsys)
    assert message.endswith(
        f"; build the goldens with `optgold generate --problem cifar --cifar-dir {cifar10_folder.resolve()} "
        f"--golden-dir {cifar_root}`\n")
    data = cifar_data.load(cifar10_folder)
    fixed(message, capsys, lambda: cifar_load.load_cases("sgd", cifar_root / "cifar10", data))


def test_cifar10_goldens_in_the_cache_name_only_the_data_folder(tmp_path, cifar10_folder, monkeypatch, capsys):
    monkeypatch.delenv("OPTGOLD_GOLDEN_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("OPTGOLD_CIFAR_DIR", str(cifar10_folder))
    assert main(["check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar"]) == 2
    message = one_line_error(capsys)
    assert message == (
        f"optgold: error: no golden manifest at {tmp_path / 'cache' / 'optgold' / 'cifar10' / 'MANIFEST.json'}; "
        f"build the goldens with `optgold generate --problem cifar --cifar-dir {cifar10_folder.resolve()}`\n")
    monkeypatch.delenv("OPTGOLD_CIFAR_DIR")  # the command names the folder itself
    data = cifar_data.load(cifar10_folder)
    fixed(message, capsys, lambda: cifar_load.load_cases("sgd", tmp_path / "cache" / "optgold" / "cifar10", data))


def test_goldens_of_other_data_name_the_command_for_this_data(cifar_root, cifar10_folder, capsys):
    """Synthetic-set goldens where the CIFAR-10 ones are looked for: build them from this folder."""
    copy_goldens(PACKAGED / "cifar", cifar_root / "cifar10", ["MANIFEST.json", "sgd.npz"])
    data = cifar_data.load(cifar10_folder)
    with pytest.raises(store.GoldenError, match="generated from other data") as raised:
        cifar_load.load_cases("sgd", cifar_root / "cifar10", data)
    assert str(raised.value).endswith(
        f"; build goldens from this data with `optgold generate --problem cifar --cifar-dir "
        f"{cifar10_folder.resolve()} --golden-dir {cifar_root}`")
    fixed(str(raised.value), capsys, lambda: cifar_load.load_cases("sgd", cifar_root / "cifar10", data))


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


# -- an installed package -------------------------------------------------------------------------

def tree(directory):
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "optgold" / "golden"


@pytest.fixture
def site_packages(tmp_path, cache, monkeypatch):
    """The packaged folder as pip installs a wheel: copies of the SGD, StepLR and CIFAR SGD goldens, and
    the distribution's metadata beside the package, saying which wheel it came from."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    packaged = site / "optgold" / "golden" / "data"
    copy_goldens(PACKAGED, packaged, QUADRATIC_FILES)
    (site / "optgold-0.1.0.dist-info").mkdir()
    (site / "optgold-0.1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.4\nName: optgold\nVersion: 0.1.0\n")
    (site / "optgold-0.1.0.dist-info" / "direct_url.json").write_text(json.dumps(
        {"url": (tmp_path / "wheels" / "optgold-0.1.0-py3-none-any.whl").as_uri(), "archive_info": {}}))
    copy_goldens(PACKAGED / "cifar", packaged / "cifar", ["MANIFEST.json", "sgd.npz"])
    monkeypatch.setattr(store, "PACKAGED_DIR", packaged)
    return packaged


@pytest.fixture
def checkout(tmp_path, cache, monkeypatch):
    """The packaged folder of a source checkout (an editable install): the repository's golden/data."""
    packaged = copy_goldens(PACKAGED, tmp_path / "checkout" / "golden" / "data", QUADRATIC_FILES)
    monkeypatch.setattr(store, "PACKAGED_DIR", packaged)
    return packaged


def test_where_generate_writes_by_default():
    """This editable install is a source checkout: generate rebuilds the repository's goldens, as the
    README's `optgold generate` and `optgold generate --check` of golden/data mean."""
    assert not store.installed() and store.generate_dir() == PACKAGED
    assert store.rebuild_command(PACKAGED) == "optgold generate"


@pytest.mark.parametrize("parts", [("site-packages",), ("dist-packages",), ("lib", "python3.11", "site-packages")])
def test_an_installed_location_is_recognised(tmp_path, parts):
    assert store.installed(tmp_path.joinpath(*parts, "optgold", "golden", "data"))
    assert not store.installed(tmp_path / "src" / "optgold" / "golden" / "data")


def test_generate_in_an_installed_package_writes_the_user_cache(site_packages, cache, capsys):
    before = tree(site_packages)
    assert store.installed() and store.generate_dir() == cache
    assert main(["generate"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"files to {cache}" in out
    assert f"--golden-dir {cache}" in out and f"OPTGOLD_GOLDEN_DIR={cache}" in out
    assert main(["generate", "--reference", "sgd"]) == 0
    assert main(["generate", "--problem", "cifar"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"--golden-dir {cache}" in out
    assert tree(site_packages) == before, "generate wrote into the installed package"
    assert load.load_cases("sgd", cache) and schedules.load_cases("step_lr", cache)
    assert cifar_load.load_cases("sgd", cifar_load.golden_dir(cache, "synthetic"), cifar_data.load())


def test_generate_where_the_packaged_folder_is_not_writable(checkout, cache, monkeypatch, capsys):
    monkeypatch.setattr(store, "_writable", lambda path: not store.same_dir(path, checkout))
    before = tree(checkout)
    assert main(["generate"]) == 0
    assert tree(checkout) == before and (cache / "sgd.npz").is_file()
    assert f"--golden-dir {cache}" in " ".join(capsys.readouterr().out.split())


def test_generate_in_a_source_checkout_writes_the_packaged_folder(checkout, cache, capsys):
    (checkout / "sgd.npz").unlink()
    assert main(["generate"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"files to {checkout}" in out and "--golden-dir" not in out
    assert load.load_cases("sgd") and not cache.exists()


def test_installed_goldens_are_restored_by_reinstalling(site_packages, tmp_path, capsys):
    (site_packages / "sgd.npz").unlink()
    (site_packages / "cifar" / store.MANIFEST).unlink()
    reinstall = store.reinstall_command()
    assert main(["check", "torch.optim:SGD", "--reference", "sgd"]) == 2
    assert one_line_error(capsys).endswith(f"is missing; regenerate with `{reinstall}`\n")
    assert main(["check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar"]) == 2
    assert one_line_error(capsys).endswith(f"; build the goldens with `{reinstall}`\n")
    assert main(["generate", "--problem", "cifar", "--check"]) == 2  # --check reads the installed goldens
    assert one_line_error(capsys).endswith(f"; build the goldens with `{reinstall}`\n")
    wheel = tmp_path / "wheels" / "optgold-0.1.0-py3-none-any.whl"
    assert shlex.split(reinstall) == [sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps",
                                      str(wheel)], "the installed package, reinstalled from where it came"


def test_goldens_generated_into_the_cache_are_rebuilt_there(site_packages, cache, capsys):
    assert main(["generate"]) == 0
    (cache / "sgd.npz").unlink()
    with pytest.raises(store.GoldenError) as raised:
        load.load_cases("sgd", cache)
    assert named_command(str(raised.value)) == f"optgold generate --golden-dir {cache}"
    fixed(str(raised.value), capsys, lambda: load.load_cases("sgd", cache))


@pytest.mark.parametrize("direct_url, source", [
    (None, "optgold==0.1.0"),
    ({"url": "file:///home/me/my%20src/optgold", "dir_info": {}}, "/home/me/my src/optgold"),
    ({"url": "file:///w/optgold-0.1.0-py3-none-any.whl", "archive_info": {}}, "/w/optgold-0.1.0-py3-none-any.whl"),
    ({"url": "https://example.org/optgold-0.1.0.tar.gz", "archive_info": {}}, "https://example.org/optgold-0.1.0.tar.gz"),
    ({"url": "https://github.com/o/optgold", "vcs_info": {"vcs": "git", "commit_id": "ab12"}},
     "git+https://github.com/o/optgold@ab12"),
])
def test_the_reinstall_comes_from_where_the_package_came(direct_url, source):
    assert store.install_source(direct_url, "0.1.0") == source
