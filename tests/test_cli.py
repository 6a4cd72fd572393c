"""The command-line contract: exit codes, one-line errors, the JSON report."""
import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from optgold.golden import store
from optgold.cli import main

BUGGY_SGD = textwrap.dedent("""
    import torch

    class DecayOutsideBuffer(torch.optim.SGD):
        '''Weight decay added to the update instead of the gradient that feeds the buffer.'''

        @torch.no_grad()
        def step(self, closure=None):
            group = self.param_groups[0]
            for p in group["params"]:
                state = self.state[p]
                g = -p.grad if group["maximize"] else p.grad
                if group["momentum"]:
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.clone()
                    else:
                        buf.mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g + group["weight_decay"] * p, alpha=-group["lr"])
""")


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_torch_sgd_passes_and_writes_json(tmp_path, capsys):
    path = tmp_path / "r.json"
    code, out, _ = run(["check", "torch.optim:SGD", "--reference", "sgd", "--mode", "replay", "--json", str(path)],
                       capsys)
    assert code == 0
    assert "PASSED" in out
    report = json.loads(path.read_text())
    assert report["passed"] is True and report["reference"] == "sgd" and report["impl"] == "torch.optim:SGD"
    assert {c["status"] for c in report["cases"]} == {"passed"}
    assert set(report["cases"][0]) >= {"id", "status", "mode", "dtype", "first_divergent_step", "max_abs_error",
                                       "message"}


def test_buggy_file_impl_exits_1_and_names_the_step(tmp_path, capsys):
    impl = tmp_path / "buggy.py"
    impl.write_text(BUGGY_SGD)
    path = tmp_path / "r.json"
    code, out, _ = run(["check", f"{impl}:DecayOutsideBuffer", "--reference", "sgd", "--json", str(path)], capsys)
    assert code == 1
    failed = [c for c in json.loads(path.read_text())["cases"] if c["status"] == "failed"]
    assert failed and all(c["first_divergent_step"] >= 1 for c in failed)
    assert "decay_after_momentum" in out  # the diagnosis names the variant it matches


def test_impl_arg_reaches_the_constructor(capsys):
    code, out, _ = run(["check", "torch.optim:Adam", "--reference", "adam", "--impl-arg", "foreach=true",
                        "--impl-arg", "nonsense_flag=1", "--mode", "replay"], capsys)
    assert code == 1
    assert "nonsense_flag" in out


@pytest.mark.parametrize("argv, fragment", [
    (["check", "torch.optim:Adam", "--reference", "nosuch"], "unknown reference 'nosuch'"),
    (["check", "torch.optim:NoSuchOptimizer", "--reference", "adam"], "has no attribute 'NoSuchOptimizer'"),
    (["check", "no_such_module_xyz:Adam", "--reference", "adam"], "cannot import module"),
    (["check", "torch.optim", "--reference", "adam"], "must look like package.module:Attr"),
    (["check", "missing_file.py:Adam", "--reference", "adam"], "no such file"),
    (["check", "torch.optim:Adam", "--reference", "adam", "--impl-arg", "fused"], "KEY=VALUE"),
    (["check", "torch.optim:Adam", "--reference", "adam", "--json", "/nonexistent-dir/r.json"], "/nonexistent-dir"),
])
def test_usage_errors_exit_2_with_one_line(argv, fragment, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1


def test_impl_that_raises_on_import_exits_2(tmp_path, capsys):
    impl = tmp_path / "broken.py"
    impl.write_text("raise RuntimeError('broken at import')\n")
    code, _, err = run(["check", f"{impl}:X", "--reference", "adam"], capsys)
    assert code == 2 and "broken at import" in err


def test_argparse_usage_error_exits_2():
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "torch.optim:Adam", "--reference", "adam", "--dtype", "float8"])
    assert exit_info.value.code == 2


def test_tampered_golden_exits_2_and_says_so(tmp_path, capsys):
    shutil.copytree(store.PACKAGED_DIR, tmp_path / "g")
    target = tmp_path / "g" / "sgd.npz"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    code, _, err = run(["check", "torch.optim:SGD", "--reference", "sgd", "--golden-dir", str(tmp_path / "g")],
                       capsys)
    assert code == 2 and "sha256" in err


def test_list_shows_references_and_case_counts(capsys):
    code, out, _ = run(["list"], capsys)
    assert code == 0
    for name in ("sgd", "adam", "adamw"):
        assert name in out


def test_console_script_is_installed_and_exits_2_on_unknown_reference():
    exe = shutil.which("optgold")
    if exe is None:
        pytest.skip("optgold is not installed in this environment (pip install -e .)")
    proc = subprocess.run([exe, "check", "torch.optim:Adam", "--reference", "nosuch"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown reference" in proc.stderr


def test_module_entry_point_runs_a_check():
    proc = subprocess.run([sys.executable, "-m", "optgold.cli", "check", "torch.optim:AdamW", "--reference", "adamw",
                           "--mode", "replay", "--dtype", "float32"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
