"""A reference from outside optgold: the README's worked example end to end (QHM, which torch does not have)."""
import re
import textwrap
from pathlib import Path

import pytest

from optgold.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "examples"
REFERENCE, IMPLEMENTATIONS = EXAMPLES / "qhm.py", EXAMPLES / "qhm_torch.py"


@pytest.fixture(scope="module")
def goldens(tmp_path_factory):
    directory = tmp_path_factory.mktemp("qhm_goldens")
    assert main(["generate", "--reference", str(REFERENCE), "--golden-dir", str(directory)]) == 0
    return directory


def test_generate_writes_and_certifies_the_goldens(goldens):
    assert sorted(p.name for p in goldens.iterdir()) == ["MANIFEST.json", "qhm.npz"]
    assert main(["generate", "--check", "--reference", str(REFERENCE), "--golden-dir", str(goldens)]) == 0
    from optgold.golden.load import load_cases

    cases = load_cases("qhm", goldens)
    assert [c.id for c in cases] == ["default_rotated", "nu_rosenbrock"]
    assert all(c.golden_error["replay"] < 1e-12 for c in cases)  # certified against 50 digits


def test_a_correct_class_passes_and_a_mutant_fails_naming_its_bug(goldens, capsys):
    check = ["check", "--reference", str(REFERENCE), "--golden-dir", str(goldens)]
    assert main([*check[:1], f"{IMPLEMENTATIONS}:QHM", *check[1:]]) == 0
    assert "PASSED: 4 passed" in capsys.readouterr().out
    assert main([*check[:1], f"{IMPLEMENTATIONS}:QHMUndamped", *check[1:], "--mode", "replay"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "diverge at step 1" in out and "explained by named variant undamped_buffer" in out


def test_the_pytest_plugin_uses_them(goldens, pytester, monkeypatch):
    import os

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(textwrap.dedent(f"""
        import pytest

        @pytest.mark.optgold(impl="{IMPLEMENTATIONS}:QHM", reference="{REFERENCE}", golden_dir="{goldens}")
        def test_qhm(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_qhm?nu_rosenbrock-free-float64? PASSED*"])


def test_a_file_reference_needs_a_golden_folder_of_its_own(capsys):
    assert main(["generate", "--reference", str(REFERENCE)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "needs --golden-dir DIR" in error


def test_a_module_off_the_protocol_is_a_usage_error(tmp_path, capsys):
    broken = tmp_path / "half.py"
    broken.write_text(REFERENCE.read_text().replace("GRID = [", "CASES = ["))
    assert main(["generate", "--reference", str(broken), "--golden-dir", str(tmp_path / "g")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is not an optgold reference" in error and "GRID" in error
    assert not (tmp_path / "g").exists()


def test_the_readme_shows_the_example_as_it_is_tested():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert REFERENCE.read_text() in blocks, "README's reference example differs from tests/examples/qhm.py"
    assert IMPLEMENTATIONS.read_text() in blocks, "README's torch example differs from tests/examples/qhm_torch.py"
