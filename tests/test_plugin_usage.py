"""The pytest plugin's markers: a marker that cannot run fails its own test on one line; paths are the test's."""
import itertools
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from optgold import pytest_plugin
from optgold.golden.load import load_cases
from optgold.golden.store import PACKAGED_DIR

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "examples"
SGD_CASES = len(load_cases("sgd"))
UNRELATED = textwrap.dedent("""
    def test_unrelated():
        assert True
""")


@pytest.fixture(autouse=True)
def project_on_path(monkeypatch):
    """The pytest runs below are subprocesses (torch registers native ops once per process);
    they find the project, and its plugin entry point, like the installed package does."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def marked(name, arguments):
    return textwrap.dedent(f"""
        @pytest.mark.optgold({arguments})
        def {name}(optgold_case):
            optgold_case.assert_passes()
    """)


def assert_fails_alone(result, name, message):
    """``name`` is one failing item whose whole report is one line holding ``message``: no traceback."""
    lines = result.stdout.lines
    header = next(i for i, line in enumerate(lines) if line.startswith("_") and f" {name}[usage-error] " in line)
    body = list(itertools.takewhile(lambda line: not line.startswith(("_", "=")), lines[header + 1:]))
    assert len(body) == 1 and message in body[0], body


BAD_MARKERS = {
    "test_unknown_mode": ('impl="torch.optim:SGD", reference="sgd", modes=("replay", "fre")',
                          "mode 'fre': the optimizer kind's modes are replay, free"),
    "test_unknown_dtype": ('impl="torch.optim:SGD", reference="sgd", dtype="float8"',
                           "dtype 'float8' is not one of float64, float32, bfloat16, float16"),
    "test_low_dtype_scheduler": ('impl="torch.optim.lr_scheduler:StepLR", reference="step_lr", dtype="bfloat16"',
                                 "dtype bfloat16: the scheduler kind checks float64, float32"),
    "test_unknown_argument": ('impl="torch.optim:SGD", reference="sgd", dtypes="float32"',
                              "@pytest.mark.optgold: unknown argument dtypes; it takes impl, reference"),
    "test_no_impl": ('reference="sgd"', "@pytest.mark.optgold: impl is missing"),
    "test_impl_not_callable": ('impl=3, reference="sgd"', "@pytest.mark.optgold: impl 3 is a int"),
    "test_no_reference": ('impl="torch.optim:SGD"', "@pytest.mark.optgold: reference is missing"),
    "test_reference_not_a_name": ('impl="torch.optim:SGD", reference=["sgd"]',
                                  "@pytest.mark.optgold: reference ['sgd'] is a list"),
    "test_unknown_problem": ('impl="torch.optim:SGD", reference="sgd", problem="mnist"',
                             "@pytest.mark.optgold: problem 'mnist' is not one of quadratics, cifar"),
    "test_no_cifar_run": ('impl="torch.optim:Rprop", reference="rprop", problem="cifar"',
                          "@pytest.mark.optgold: problem='cifar' has no run of 'rprop'; it has adam, adamw"),
    "test_bad_timeout": ('impl="torch.optim:SGD", reference="sgd", timeout=-1',
                         "timeout -1 must be a positive number of seconds"),
    "test_bad_threads": ('impl="torch.optim:SGD", reference="sgd", threads=0',
                         "threads 0 must be a whole number, 1 or more"),
    "test_bad_device": ('impl="torch.optim:SGD", reference="sgd", device="tpu"',
                        "device 'tpu' is not a torch device"),
    "test_positional": ('"torch.optim:SGD", reference="sgd"', "@pytest.mark.optgold: takes keyword arguments only"),
    "test_unknown_contract": ('impl="torch.optim:SGD", reference="sgd", contracts="resume,amps"',
                              "unknown contract 'amps'; known: resume, missing_grad"),
}


def test_a_bad_marker_fails_its_test_and_collection_goes_on(pytester):
    bad = "".join(marked(name, arguments) for name, (arguments, _) in BAD_MARKERS.items())
    good = marked("test_good", 'impl="torch.optim:SGD", reference="sgd", modes=("replay",), contracts="none"')
    pytester.makepyfile(test_markers="import pytest\n" + bad + good + UNRELATED, test_other=UNRELATED)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=len(BAD_MARKERS), passed=SGD_CASES + 2)
    assert result.ret == 1  # tests failed; not an interrupted session
    for name, (_, message) in BAD_MARKERS.items():
        assert_fails_alone(result, name, message)


def test_a_missing_marker_fails_its_test_only(pytester):
    pytester.makepyfile("def test_x(optgold_case):\n    pass\n" + UNRELATED)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1, passed=1)
    assert_fails_alone(result, "test_x", "takes optgold_case but has no @pytest.mark.optgold")


def corrupt_goldens(folder):
    """A golden folder whose sgd archive was cut short after its manifest was written."""
    folder.mkdir()
    for name in ("MANIFEST.json", "sgd.npz"):
        shutil.copy(PACKAGED_DIR / name, folder / name)
    data = (folder / "sgd.npz").read_bytes()
    (folder / "sgd.npz").write_bytes(data[:len(data) // 2])
    return folder


def test_unknown_references_unloadable_impls_and_bad_goldens_fail_their_test_only(pytester):
    corrupt = corrupt_goldens(pytester.path / "corrupt")
    broken = {
        "test_unknown_reference": ('impl="torch.optim:SGD", reference="sgdd"', "unknown reference 'sgdd'; optimizer:"),
        "test_impl_not_importable": ('impl="no_such_package.optim:SGD", reference="sgd"',
                                     "cannot import module 'no_such_package.optim'"),
        "test_impl_file_missing": ('impl="missing.py:SGD", reference="sgd"', "no such file"),
        "test_impl_attribute_missing": ('impl="torch.optim:NoSuchOptimizer", reference="sgd"',
                                        "has no attribute 'NoSuchOptimizer'"),
        "test_corrupt_golden": (f'impl="torch.optim:SGD", reference="sgd", golden_dir={str(corrupt)!r}',
                                "sha256 does not match the manifest"),
        "test_missing_golden": ('impl="torch.optim:SGD", reference="sgd", golden_dir="nowhere"',
                                "no golden manifest at"),
        "test_file_reference_without_goldens": ('impl="torch.optim:SGD", reference="my_ref.py"',
                                                "a reference from outside optgold needs golden_dir="),
    }
    pytester.makepyfile(test_broken="import pytest\n" + "".join(marked(n, a) for n, (a, _) in broken.items())
                        + UNRELATED, test_other=UNRELATED)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=len(broken), passed=2)
    assert result.ret == 1 and "INTERNALERROR" not in result.stdout.str()
    for name, (_, message) in broken.items():
        assert_fails_alone(result, name, message)


def test_relative_paths_are_read_from_the_test_files_folder(pytester):
    """impl, reference and golden_dir given relative to the test file, pytest started from elsewhere."""
    from optgold.cli import main

    here = pytester.mkdir("checks")
    (here / "impls").mkdir()
    (here / "refs").mkdir()
    shutil.copy(EXAMPLES / "qhm_torch.py", here / "impls" / "my_qhm.py")
    shutil.copy(EXAMPLES / "qhm.py", here / "refs" / "qhm_here.py")
    assert main(["generate", "--reference", str(here / "refs" / "qhm_here.py"), "--golden-dir", str(here / "goldens")]) == 0
    (here / "test_qhm.py").write_text("import pytest\n" + marked(
        "test_qhm", 'impl="impls/my_qhm.py:QHM", reference="refs/qhm_here.py", golden_dir="goldens", modes=("replay",)'))
    result = pytester.runpytest_subprocess("-v", "checks")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_qhm?default_rotated-replay-float64? PASSED*"])


def test_absolute_paths_and_module_names_are_kept(tmp_path):
    base = tmp_path / "tests"
    assert pytest_plugin._impl("mypkg.optim:Fused", base) == "mypkg.optim:Fused"
    assert pytest_plugin._impl("impls/mine.py:Fused", base) == f"{base / 'impls' / 'mine.py'}:Fused"
    assert pytest_plugin._impl(f"{tmp_path / 'mine.py'}:Fused", base) == f"{tmp_path / 'mine.py'}:Fused"
    assert pytest_plugin._path("cifar_dir", "cifar10", base) == str(base / "cifar10")
    assert pytest_plugin._path("cifar_dir", tmp_path / "data", base) == str(tmp_path / "data")
    assert pytest_plugin._reference("adam", base) == "adam"
    assert pytest_plugin._reference("refs/mine.py", base) == str(base / "refs" / "mine.py")
