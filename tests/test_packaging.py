"""The wheel, built and installed into a fresh virtual environment, works as the README says.

The repository keeps suite/, reference/ and golden/; an install must claim one import name,
optgold (pyproject.toml maps the folders into it). Here the wheel is built from a copy of the
working tree (an in-place build would reuse build/lib, where a module deleted from the tree
lives on), its contents are checked, and it is installed into a new virtual environment. That
environment sees the outer one's site-packages for the dependencies only (torch, numpy, pytest,
...), through a folder of links that leaves out the outer editable optgold and every .pth file.
Everything then runs from a folder holding suite.py, reference.py and golden.py that refuse to be
imported: the installed optgold must never reach for the repository's folder names.

`pytest -m packaging` runs only these; they are part of the default run too.
"""
import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"suite": "optgold", "reference": "optgold.reference", "golden": "optgold.golden"}
TRAPS = ("suite", "reference", "golden")
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
              ".benchmarks", ".tox", "tests")
TIMEOUT = 300  # seconds for any one command; each takes a few


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# -- what the wheel must hold ---------------------------------------------------------------------

def package_folders(root=ROOT):
    """{import name: folder} for every folder of suite/, reference/ and golden/ that holds Python code."""
    found = {}
    for folder, name in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.parent.relative_to(root / folder)
            if "__pycache__" not in relative.parts:
                found[".".join([name, *relative.parts])] = path.parent.relative_to(root).as_posix()
    return found


def expected_files(root=ROOT):
    """{path inside the wheel: source file} for every module and every golden file listed by a manifest."""
    files = {}
    for folder, name in FOLDERS.items():
        prefix = name.replace(".", "/")
        for path in (root / folder).rglob("*.py"):
            if "__pycache__" not in path.parts:
                files[f"{prefix}/{path.relative_to(root / folder).as_posix()}"] = path
    for manifest in (root / "golden" / "data").rglob("MANIFEST.json"):
        folder = manifest.parent
        for name in [manifest.name, *json.loads(manifest.read_text())["files"]]:
            files[f"optgold/golden/{(folder / name).relative_to(root / 'golden').as_posix()}"] = folder / name
    return files


def wheel_problems(members, read, root):
    """What is wrong with a wheel: ``members`` its file names, ``read(name)`` a member's bytes, ``root``
    the source tree it was built from (it must hold every module and golden of it, byte for byte)."""
    expected = expected_files(root)
    problems = []
    dist_info = [m.split("/")[0] for m in members if m.split("/")[0].endswith(".dist-info")]
    tops = {m.split("/")[0] for m in members} - set(dist_info)
    if tops != {"optgold"}:
        problems.append(f"top-level names {sorted(tops)}, not just optgold")
    problems += [f"stray {m}" for m in members if "__pycache__" in m or m.endswith(".pyc")]
    for name, source in sorted(expected.items()):
        if name not in members:
            problems.append(f"lacks {name} ({source.relative_to(root).as_posix()})")
        elif hashlib.sha256(read(name)).digest() != hashlib.sha256(source.read_bytes()).digest():
            problems.append(f"{name} differs from {source.relative_to(root).as_posix()}")
    if len(set(dist_info)) != 1:
        return problems + [f"dist-info folders: {sorted(set(dist_info))}"]
    info = dist_info[0]
    top_level = f"{info}/top_level.txt"
    if top_level in members and read(top_level).decode().split() != ["optgold"]:
        problems.append(f"top_level.txt names {read(top_level).decode().split()}")
    points = configparser.ConfigParser()
    entry_points = f"{info}/entry_points.txt"
    points.read_string(read(entry_points).decode() if entry_points in members else "")
    for group, key, value in [("console_scripts", "optgold", "optgold.cli:main"),
                              ("pytest11", "optgold", "optgold.pytest_plugin")]:
        got = points.get(group, key, fallback=None)
        if got != value:
            problems.append(f"entry point [{group}] {key} is {got!r}, not {value!r}")
    return problems


def missing_build_requirements():
    """pyproject.toml's build requirements that this environment does not satisfy."""
    from importlib import metadata

    from packaging.requirements import Requirement

    missing = []
    for text in pyproject()["build-system"]["requires"]:
        requirement = Requirement(text)
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or not requirement.specifier.contains(installed, prereleases=True):
            missing.append(f"{text} (installed: {installed})")
    return missing


def test_ci_and_tox_install_the_build_requirements():
    """The wheel is built without build isolation, so every runner of the tests must install the backend."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert '["build-system"]["requires"]' in ci and '"${build_requires[@]}"' in ci, ".ci/run must install them"
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    deps = [line.strip() for line in tox["testenv"]["deps"].splitlines() if line.strip()]
    assert set(pyproject()["build-system"]["requires"]) <= set(deps), f"tox.ini [testenv] deps lack them: {deps}"


@dataclass
class Built:
    path: Path  # the wheel
    source: Path  # the copy of the working tree it was built from


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The wheel, built without network or build isolation from a copy of the working tree."""
    missing = missing_build_requirements()
    assert not missing, f"the wheel is built without build isolation and needs {missing}: python -m pip install them"
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE), symlinks=True)
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                 "-w", str(work / "dist"), str(source)])
    assert built.returncode == 0, built.stderr
    (path,) = (work / "dist").glob("optgold-*.whl")
    return Built(path, source)


def unlisted_packages(root=ROOT):
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    return {name: folder for name, folder in package_folders(root).items() if name not in listed}


def test_pyproject_lists_every_package_folder():
    unlisted = unlisted_packages()
    assert not unlisted, f"pyproject.toml [tool.setuptools] packages lacks {unlisted}: they would not be installed"
    listed, folders = set(pyproject()["tool"]["setuptools"]["packages"]), set(package_folders())
    assert listed <= folders, f"pyproject.toml lists packages with no folder: {sorted(listed - folders)}"
    assert pyproject()["tool"]["setuptools"]["package-dir"] == {name: folder for folder, name in FOLDERS.items()}


def test_a_new_unlisted_folder_is_caught(tmp_path):
    for module in ("suite/cli.py", "suite/extra/deep/mod.py", "reference/sgd.py", "golden/store.py"):
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).write_text("")
    assert unlisted_packages(tmp_path) == {"optgold.extra.deep": "suite/extra/deep"}


def test_wheel_holds_one_import_name_every_module_every_golden_and_the_entry_points(wheel):
    with zipfile.ZipFile(wheel.path) as archive:
        members = archive.namelist()
        assert wheel_problems(members, archive.read, wheel.source) == []
    assert any(m.startswith("optgold/golden/data/cifar/") and m.endswith(".npz") for m in members)
    assert "optgold/golden/data/cifar/MANIFEST.json" in members and "optgold/golden/data/MANIFEST.json" in members
    assert not any(m.startswith(("tests/", "suite/", "reference/", "golden/")) for m in members)


def test_wheel_check_catches_a_broken_wheel(wheel):
    """The checks above can fail: a doctored copy of the wheel trips each one."""
    with zipfile.ZipFile(wheel.path) as archive:
        good = {m: archive.read(m) for m in archive.namelist()}
    info = next(m.split("/")[0] for m in good if m.endswith(".dist-info/entry_points.txt"))
    bad = dict(good)
    bad["suite/cli.py"] = good["optgold/cli.py"]  # a second top-level name
    del bad["optgold/golden/data/cifar/sgd.npz"]  # a CIFAR golden left out
    bad["optgold/golden/data/sgd.npz"] = good["optgold/golden/data/sgd.npz"][:-1]  # a golden changed
    bad[f"{info}/entry_points.txt"] = b"[console_scripts]\noptgold = suite.cli:main\n"  # no pytest11
    assert wheel_problems(list(good), good.__getitem__, wheel.source) == []
    problems = wheel_problems(list(bad), bad.__getitem__, wheel.source)
    assert problems == [
        "top-level names ['optgold', 'suite'], not just optgold",
        "lacks optgold/golden/data/cifar/sgd.npz (golden/data/cifar/sgd.npz)",
        "optgold/golden/data/sgd.npz differs from golden/data/sgd.npz",
        "entry point [console_scripts] optgold is 'suite.cli:main', not 'optgold.cli:main'",
        "entry point [pytest11] optgold is None, not 'optgold.pytest_plugin'",
    ]


# -- the installed wheel ----------------------------------------------------------------------------

class FreshEnv:
    """A virtual environment holding only the wheel, plus links to the outer dependencies."""

    def __init__(self, root, wheel):
        self.root = root
        self.venv = root / "venv"
        self.python = self.venv / "bin" / "python"
        self.work = root / "work"  # the folder every command runs in
        created = run([sys.executable, "-m", "venv", "--without-pip", str(self.venv)])
        assert created.returncode == 0, created.stderr
        installed = run([sys.executable, "-m", "pip", "--python", str(self.python), "install", "--no-deps",
                         "--no-index", "-q", str(wheel)])
        assert installed.returncode == 0, installed.stderr
        self.site = Path(run([str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                             ).stdout.strip())
        self._link_dependencies()
        self.work.mkdir()
        for name in TRAPS:  # a module that records its import, then refuses it
            marker = self.work / f"IMPORTED_{name}"
            (self.work / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                                  f"raise ImportError('the installed optgold imported {name}')\n")

    def _link_dependencies(self):
        outer = Path(sysconfig.get_paths()["purelib"])
        deps = self.root / "outer-dependencies"
        deps.mkdir()
        for entry in outer.iterdir():
            name = entry.name.lower()
            if name.startswith(("optgold", "__editable__", "_optgold")) or name.endswith(".pth"):
                continue
            (deps / entry.name).symlink_to(entry)
        (self.site / "_outer_dependencies.pth").write_text(f"{deps}\n")

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "OPTGOLD_", "PYTEST_", "COV_", "VIRTUAL_ENV"))}
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        return {**env, "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
                "PYTHONPATH": str(self.work),  # so a stray `import golden` finds the trap, even in the console script
                "PYTHONNOUSERSITE": "1", "COLUMNS": "200", "NO_COLOR": "1",
                "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // workers))}

    def __call__(self, *command):
        result = run(list(command), cwd=self.work, env=self.env())
        tripped = sorted(p.name for p in self.work.glob("IMPORTED_*"))
        assert not tripped, f"{command} imported the repository's folder names: {tripped}\n{result.stderr}"
        return result


@pytest.fixture(scope="session")
def fresh(wheel, tmp_path_factory):
    return FreshEnv(tmp_path_factory.mktemp("fresh"), wheel.path)


INSPECT = """
import importlib, json, pkgutil, shutil, sys
import importlib.metadata as metadata
import optgold
from optgold.golden import store
from optgold.golden.cifar import data, load
modules = sorted(m.name for m in pkgutil.walk_packages(optgold.__path__, "optgold."))
for name in modules:
    importlib.import_module(name)
synthetic = data.load()
cifar = {name[:-4]: len(load.load_cases(name[:-4], load.golden_dir(None, synthetic.name), synthetic))
         for name in store.read_manifest(load.golden_dir(None, synthetic.name))["files"]}
print(json.dumps({
    "files": {m: sys.modules[m].__file__ for m in ["optgold", "optgold.golden", "optgold.reference", *modules]},
    "packaged": str(store.PACKAGED_DIR), "cifar": cifar,
    "dists": [str(d.locate_file("")) for d in metadata.distributions() if d.metadata["Name"] == "optgold"],
    "script": shutil.which("optgold"), "roots": [m for m in sys.modules if m.split(".")[0] in {TRAPS}],
}))
""".replace("{TRAPS}", repr(set(TRAPS)))


def test_fresh_environment_imports_the_wheel_copy_only(fresh):
    result = fresh(str(fresh.python), "-c", INSPECT)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    site = fresh.site.resolve()
    assert seen["files"] and all(Path(f).resolve().is_relative_to(site) for f in seen["files"].values()), seen
    assert not any(ROOT in Path(f).resolve().parents for f in seen["files"].values())
    assert Path(seen["packaged"]).resolve() == site / "optgold" / "golden" / "data"
    assert [Path(d).resolve() for d in seen["dists"]] == [site], "one optgold distribution: the wheel's"
    assert Path(seen["script"]).resolve().parent == (fresh.venv / "bin").resolve()
    assert seen["cifar"] == {"adam": 2, "adamw": 1, "rmsprop": 1, "sgd": 2}, "packaged CIFAR goldens, hash-checked"
    assert seen["roots"] == []


def test_trap_modules_refuse_to_be_imported(fresh):
    """The trap works: a plain `import golden` in the fresh environment fails, and is caught by the check."""
    with pytest.raises(AssertionError, match=r"imported the repository's folder names: \['IMPORTED_golden'\]"):
        fresh(str(fresh.python), "-c", "import golden")
    (fresh.work / "IMPORTED_golden").unlink()


def test_installed_optgold_list(fresh):
    result = fresh("optgold", "list")
    assert result.returncode == 0, result.stderr
    for name in ("sgd", "adam", "adamw", "lion", "step_lr", "one_cycle_lr"):
        assert re.search(rf"│ {name} +│", result.stdout), f"optgold list does not show {name}:\n{result.stdout}"


def test_installed_quadratic_check(fresh):
    result = fresh("optgold", "check", "torch.optim:SGD", "--reference", "sgd")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^PASSED: [1-9]\d* passed, 0 failed, 0 skipped$", result.stdout, re.M), result.stdout


@pytest.fixture(scope="session")
def tiny_cifar_goldens(tmp_path_factory):
    """CIFAR goldens of one short SGD run (4 steps of batch 4) in root/cifar; the packaged ones replay 300
    steps per case, minutes on a shared CPU."""
    from optgold.golden.cifar import data as cifar_data
    from optgold.golden.cifar import generate
    from optgold.golden.cifar.grid import _case

    root = tmp_path_factory.mktemp("cifar-goldens")
    grid = {"sgd": [_case("sgd", "tiny_nesterov", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4),
                          steps=4, batch_size=4, eval_size=40)]}
    generate.generate(root / "cifar", cifar_data.load(), grid)
    return root


def test_installed_cifar_check(fresh, tiny_cifar_goldens):
    result = fresh("optgold", "check", "torch.optim:SGD", "--reference", "sgd", "--problem", "cifar",
                   "--golden-dir", str(tiny_cifar_goldens))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "data: synthetic CIFAR-shaped set generated by optgold" in result.stdout
    assert re.search(r"│ tiny_nesterov +│ replay +│ float64 +│ passed", result.stdout), result.stdout
    assert re.search(r"^PASSED: 1 passed, 0 failed, 0 skipped$", result.stdout, re.M), result.stdout


PLUGIN_TESTS = r'''
import pytest
import torch


def wrong_sgd(params, lr=1e-3, **hyperparameters):
    """SGD with its lr 0.1% too large: every case must catch it."""
    return torch.optim.SGD(params, lr=lr * 1.001, **hyperparameters)


def test_the_plugin_is_the_installed_one(request):
    print("\nPLUGIN", request.config.pluginmanager.get_plugin("optgold").__file__)


@pytest.mark.optgold(impl="torch.optim:SGD", reference="sgd")
def test_sgd(optgold_case):
    optgold_case.assert_passes()


@pytest.mark.optgold(impl=wrong_sgd, reference="sgd", modes=("replay",), contracts="none")
def test_wrong_sgd(optgold_case):
    optgold_case.assert_passes()
'''


def test_installed_pytest_plugin(fresh):
    from optgold.check import Options
    from optgold.golden.load import load_cases
    from optgold.kinds import optimizer

    cases, with_contracts = len(load_cases("sgd")), len(optimizer.cases("sgd", Options()))  # the wheel's goldens too
    (fresh.work / "test_installed_plugin.py").write_text(textwrap.dedent(PLUGIN_TESTS))
    result = fresh(str(fresh.python), "-m", "pytest", "-v", "-s", "-p", "no:cacheprovider", "test_installed_plugin.py")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    plugin = re.search(r"^PLUGIN (.*)$", out, re.M)
    assert plugin and Path(plugin[1]).resolve() == fresh.site.resolve() / "optgold" / "pytest_plugin.py", out
    outcomes = re.findall(r"::(test_\w+)\[[^\]]+\] (PASSED|FAILED|SKIPPED)", out)
    assert sorted(set(outcomes)) == [("test_sgd", "PASSED"), ("test_wrong_sgd", "FAILED")], out
    assert [o for o in outcomes if o[0] == "test_sgd"] == [("test_sgd", "PASSED")] * (2 * with_contracts), out
    assert [o for o in outcomes if o[0] == "test_wrong_sgd"] == [("test_wrong_sgd", "FAILED")] * cases, out
    assert re.search(rf"{cases} failed, {2 * with_contracts + 1} passed", out), out
