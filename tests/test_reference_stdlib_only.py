"""reference/ uses the standard library only: no torch, no numpy, nothing installed."""
import ast
import json
import os
import site
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p.stem for p in (ROOT / "reference").glob("*.py"))
SUBPACKAGE_MODULES = sorted(f"{p.parent.name}.{p.stem}" for p in (ROOT / "reference").glob("*/*.py"))
ALLOWED = set(sys.stdlib_module_names) | {"reference"}


def test_every_reference_module_is_checked():
    assert {"__init__", "sgd", "adam", "adamw", "problems", "trajectory"} <= set(MODULES)


def modules_loaded_by(names, path):
    """Top-level names of the modules that importing ``names`` adds, in a fresh interpreter.

    -S skips site, so no .pth file can preload a third-party module into the baseline and
    hide it; site-packages stays on the path, so a third-party import is seen, not a crash.
    """
    code = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    search = os.pathsep.join([str(path), *site.getsitepackages()])
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=path, capture_output=True, text=True,
                         env={"PYTHONPATH": search}, check=True).stdout
    return set(json.loads(out))


def test_importing_reference_loads_only_stdlib_modules():
    names = ["reference" if m == "__init__" else f"reference.{m}" for m in MODULES]
    names += [f"reference.{m.removesuffix('.__init__')}" for m in SUBPACKAGE_MODULES]
    loaded = modules_loaded_by(names, ROOT)
    assert "reference" in loaded, "the probe did not import reference at all"
    assert loaded <= ALLOWED, f"reference pulls in non-stdlib modules: {sorted(loaded - ALLOWED)}"


def test_import_probe_sees_a_third_party_import(tmp_path):
    (tmp_path / "leaky.py").write_text("import numpy\n")
    assert "numpy" in modules_loaded_by(["leaky"], tmp_path) - ALLOWED


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "reference" if node.level else node.module  # relative: the package itself
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in (
                "__import__", "import_module"):
            yield "reference" if _is_own_submodule(node) else "<dynamic import>"


def _is_own_submodule(call):
    """import_module(f"{__name__}.<name>"): a module of the importing package itself (discovery)."""
    arg = call.args[0] if call.args else None
    return (isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.FormattedValue)
            and getattr(arg.values[0].value, "id", None) == "__name__")


def test_reference_sources_import_only_stdlib():
    bad = {}
    for path in sorted((ROOT / "reference").rglob("*.py")):
        top = {name.split(".")[0] for name in _imports(path)}
        if top - ALLOWED:
            bad[path.name] = sorted(top - ALLOWED)
    assert not bad, f"non-stdlib imports in reference/: {bad}"


def test_reference_imports_itself_relatively():
    """reference/ is optgold.reference when installed and reference in the repository: only relative
    imports name it the same way in both."""
    own = {p.name for p in (ROOT / "reference").rglob("*.py")
           if any(isinstance(n, ast.ImportFrom) and not n.level and n.module.split(".")[0] in ("reference", "optgold")
                  for n in ast.walk(ast.parse(p.read_text())))}
    assert not own, f"absolute imports of the package in: {sorted(own)}"


def test_static_scan_flags_a_third_party_import(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import math\nfrom numpy import array\ndef f():\n    import torch.nn\n")
    assert {n.split(".")[0] for n in _imports(path)} - ALLOWED == {"numpy", "torch"}


def test_static_scan_flags_a_dynamic_import_of_another_package(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import importlib\nimportlib.import_module('numpy')\nimportlib.import_module(f'{__name__}.x')\n")
    assert set(_imports(path)) == {"importlib", "<dynamic import>", "reference"}
