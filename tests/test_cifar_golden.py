"""CIFAR goldens: a tiny grid generated here (the full one takes minutes), its store, reproduction and
checking; real-format data end to end through the command line; and the packaged goldens' shape."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from optgold.golden import store
from optgold.golden.cifar import binary, generate, load, schedule, synthetic
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar.grid import GRID, _case, warmup_cosine
from functools import partial

from optgold.check import check as check_any

check = partial(check_any, problem="cifar")
from optgold.cli import main
from tests.mutants import adam_mutants

TINY = dict(steps=4, batch_size=4, eval_size=40)
TINY_COSINE = warmup_cosine(2, 5e-5, steps=4)  # two warmup steps, then two of cosine
TINY_GRID = {"adam": [_case("adam", "tiny_l2_cosine", dict(lr=1e-3, weight_decay=1e-4), TINY_COSINE, **TINY)],
             "sgd": [_case("sgd", "tiny_nesterov", dict(lr=0.01, momentum=0.9, nesterov=True), **TINY)]}


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    """A golden root holding the tiny grid's goldens for the synthetic set, in root/cifar."""
    root = tmp_path_factory.mktemp("goldens")
    generate.generate(root / "cifar", cifar_data.load(), TINY_GRID)
    return root


def test_generation_is_byte_reproducible(tiny_root, tmp_path):
    again = generate.generate(tmp_path, cifar_data.load(), TINY_GRID)
    assert again == store.read_manifest(tiny_root / "cifar")


def test_generate_check_on_the_command_line(tiny_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generate, "GRID", TINY_GRID)
    (tmp_path / "cifar").mkdir()
    for f in (tiny_root / "cifar").iterdir():
        (tmp_path / "cifar" / f.name).write_bytes(f.read_bytes())
    argv = ["generate", "--problem", "cifar", "--check", "--golden-dir", str(tmp_path)]
    assert main(argv) == 0 and "byte for byte" in capsys.readouterr().out
    path = tmp_path / "cifar" / "sgd.npz"
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    assert main(argv) == 1 and "sgd.npz: stored file does not match its manifest" in capsys.readouterr().out


def test_reproduction_is_judged_by_the_float64_bound(tiny_root):
    """Where bytes differ (another machine), fingerprints within the reproduction bound still pass."""
    cases = load.load_cases("adam", tiny_root / "cifar", cifar_data.load())
    assert generate._compare(cases, cases) == ""
    (case,) = cases
    nudged = case.fingerprints.copy()
    nudged[2, 4, 3] += 1e-7  # far beyond float64 rounding: another formula, other data
    moved = load.CifarGolden(**{**vars(case), "fingerprints": nudged})
    assert "step 2, conv3.weight projection_1 differs" in generate._compare(cases, [moved])


def test_stored_case_carries_what_the_issue_asks(tiny_root):
    (case,) = load.load_cases("adam", tiny_root / "cifar", cifar_data.load())
    assert case.loss.shape == (4,) and case.fingerprints.shape == (5, 10, 6) and case.final_params.shape == (145_578,)
    assert case.lr.tolist() == pytest.approx([5e-4, 1e-3, 5.25e-4, 5e-5])  # warmup, then cosine to eta_min
    assert case.lr.tolist() == schedule.learning_rates(TINY_COSINE, 1e-3, 4) and case.schedule == TINY_COSINE
    assert set(case.golden_eval) == {"train", "test"} and case.data_name == "synthetic"
    assert (case.drift[1:] > 0).all() and case.drift.max() < 1e-10


def test_torch_adam_passes_and_a_mutant_fails_naming_step_and_tensor(tiny_root):
    report = check(torch.optim.Adam, "adam", dtype="float32", golden_dir=tiny_root)
    assert report.passed and report.cases[0].details["evaluation"] is not None
    bad = check(adam_mutants.AdamEpsInsideSqrt, "adam", dtype="float32", golden_dir=tiny_root).cases[0]
    assert bad.status == "failed" and bad.first_divergent_step == 1 and bad.details["tensor"] in bad.message
    assert "eps_inside_sqrt" in bad.message  # the diagnosis names the known bug


def test_not_implemented_is_skipped(tiny_root):
    class Refuses(torch.optim.Adam):
        def __init__(self, params, **hp):
            raise NotImplementedError("no coupled weight decay here")

    (result,) = check(Refuses, "adam", golden_dir=tiny_root).cases
    assert result.status == "skipped" and "no coupled weight decay" in result.message


def test_corrupt_golden_is_exit_2(tiny_root, tmp_path, capsys):
    (tmp_path / "cifar").mkdir()
    for f in (tiny_root / "cifar").iterdir():
        (tmp_path / "cifar" / f.name).write_bytes(f.read_bytes())
    path = tmp_path / "cifar" / "adam.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    code = main(["check", "torch.optim:Adam", "--reference", "adam", "--problem", "cifar", "--golden-dir",
                 str(tmp_path)])
    assert code == 2 and "sha256 does not match" in capsys.readouterr().err


def test_free_mode_and_uncovered_reference_are_exit_2(tiny_root, capsys):
    argv = ["check", "torch.optim:Adam", "--problem", "cifar", "--golden-dir", str(tiny_root)]
    assert main(argv + ["--reference", "adam", "--mode", "free"]) == 2
    assert "replay form only" in capsys.readouterr().err
    assert main(argv + ["--reference", "adamw"]) == 2
    assert "no CIFAR golden for reference 'adamw'" in capsys.readouterr().err


def test_goldens_refuse_other_data(tiny_root, tmp_path):
    other = tmp_path / "cifar-10-batches-bin"
    other.mkdir()
    parts = synthetic.generate(train_size=40, test_size=40, seed=5)
    binary.write_batch(other / "data_batch_1.bin", *parts["train"])
    binary.write_batch(other / "test_batch.bin", *parts["test"])
    (tmp_path / "g").mkdir()
    for f in (tiny_root / "cifar").iterdir():  # synthetic goldens where CIFAR-10 goldens are looked for
        (tmp_path / "g" / "cifar10").mkdir(exist_ok=True)
        (tmp_path / "g" / "cifar10" / f.name).write_bytes(f.read_bytes())
    with pytest.raises(store.GoldenError, match="generated from other data"):
        check(torch.optim.Adam, "adam", golden_dir=tmp_path / "g", cifar_dir=other)


def test_real_format_folder_end_to_end(tmp_path, monkeypatch, capsys):
    """A person with CIFAR-10 on disk: generate local goldens from it, then check against them."""
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    parts = synthetic.generate(train_size=60, test_size=30, seed=11)
    binary.write_batch(folder / "data_batch_1.bin", parts["train"][0][:30], parts["train"][1][:30])
    binary.write_batch(folder / "data_batch_2.bin", parts["train"][0][30:], parts["train"][1][30:])
    binary.write_batch(folder / "test_batch.bin", *parts["test"])
    monkeypatch.setattr(generate, "GRID", {"adam": TINY_GRID["adam"]})
    monkeypatch.setenv("OPTGOLD_CIFAR_DIR", str(tmp_path))  # the parent of the unpacked folder works too
    goldens = tmp_path / "goldens"
    assert main(["generate", "--problem", "cifar", "--golden-dir", str(goldens)]) == 0
    assert "CIFAR-10 from" in capsys.readouterr().out and (goldens / "cifar10" / "adam.npz").is_file()
    report_path = tmp_path / "r.json"
    code = main(["check", "torch.optim:Adam", "--reference", "adam", "--problem", "cifar", "--golden-dir",
                 str(goldens), "--dtype", "float32", "--json", str(report_path)])
    out = capsys.readouterr().out
    assert code == 0 and "CIFAR-10 from" in out and "PASSED" in out
    report = json.loads(report_path.read_text())
    assert report["problem"] == "cifar" and report["data"].startswith("CIFAR-10 from")
    assert report["cases"][0]["evaluation"]["test"]["accuracy"] >= 0
    bad = tmp_path / "bad.py"
    bad.write_text("from tests.mutants.adam_mutants import AdamBetasSwapped as Bad\n")
    code = main(["check", f"{bad}:Bad", "--reference", "adam", "--problem", "cifar", "--golden-dir", str(goldens)])
    out = capsys.readouterr().out
    assert code == 1 and "step 1 in" in out and "FAILED" in out


def test_packaged_goldens_are_small_and_cover_the_issue():
    directory = load.golden_dir(None, "synthetic")
    manifest = store.read_manifest(directory)
    assert set(manifest["files"]) == {f"{name}.npz" for name in GRID}
    total = sum((directory / name).stat().st_size for name in manifest["files"])
    assert total < 5e6, f"{total / 1e6:.1f} MB of CIFAR goldens"
    cases = {(c.reference, c.id): c for name in GRID for c in GRID[name]}
    assert all(c.steps >= 200 for c in cases.values())
    assert any(c.schedule for c in cases.values()) and any(c.schedule is None for c in cases.values())
    hp = [c.hp for c in cases.values()]
    assert any(h.get("nesterov") for h in hp) and any(h.get("momentum") and not h.get("nesterov") for h in hp)
    assert any(h.get("amsgrad") for h in hp) and {"sgd", "adam", "adamw", "rmsprop"} <= {r for r, _ in cases}


def test_packaged_lrs_are_their_schedule_specs():
    """The stored spec is the grid's, and the stored lrs are what it gives (the reference scheduler's
    rows, which tests/test_cifar_problem.py proves equal to torch's SequentialLR)."""
    directory = load.golden_dir(None, "synthetic")
    for name, cases in GRID.items():
        meta, arrays = store.read(directory, f"{name}.npz")
        stored = {m["id"]: m for m in meta["cases"]}
        for case in cases:
            assert stored[case.id]["schedule"] == case.schedule, case.id
            lr = arrays[f"{case.id}/lr"]
            assert lr.tolist() == schedule.learning_rates(case.schedule, case.hp["lr"], case.steps), case.id


def test_packaged_loss_falls():
    data = cifar_data.load()
    for name in GRID:
        for case in load.load_cases(name, load.golden_dir(None, data.name), data):
            assert case.loss[-20:].mean() < 0.6 * case.loss[:10].mean(), case.id
            assert case.golden_eval["test"]["accuracy"] > 0.3, case.id  # chance is 0.1
            assert np.isfinite(case.final_params).all()


def test_free_run_shows_the_loss_curve_and_judges_nothing(tiny_root):
    report = check(adam_mutants.AdamBetasSwapped, "adam", dtype="float32", golden_dir=tiny_root, free_run=True)
    (case,) = report.cases
    assert case.status == "failed"  # the replay's verdict, whatever the free run shows
    run = case.details["free_run"]
    assert len(run["loss"]) == case.details["steps"] == 4 and np.isfinite(run["loss"]).all() and not run["message"]
    assert abs(run["loss"][0] - case.details["golden_loss"][0]) < 1e-5  # the same start and batch, in float32
    assert 0 <= run["evaluation"]["test"]["accuracy"] <= 1

    class Breaks(torch.optim.Adam):
        def step(self, closure=None):
            if self.state:
                raise RuntimeError("second step unsupported")
            return super().step(closure)

    (broken,) = check(Breaks, "adam", golden_dir=tiny_root, free_run=True).cases
    run = broken.details["free_run"]
    assert run["message"].startswith("raised RuntimeError at step 2") and len(run["loss"]) == 1


def test_loss_curve_on_the_command_line(tiny_root, tmp_path, capsys):
    png, report_path = tmp_path / "loss.png", tmp_path / "r.json"
    argv = ["check", "torch.optim:Adam", "--reference", "adam", "--dtype", "float32"]
    assert main(argv + ["--problem", "cifar", "--golden-dir", str(tiny_root), "--loss-curve", str(png),
                        "--json", str(report_path)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "wrote the loss curves" in capsys.readouterr().out
    assert len(json.loads(report_path.read_text())["cases"][0]["free_run"]["loss"]) == 4
    assert main(argv + ["--loss-curve", str(png)]) == 2
    assert "--loss-curve needs --problem cifar" in capsys.readouterr().err


def test_pytest_plugin_makes_one_item_per_cifar_case(pytester, tiny_root, monkeypatch):
    root = str(Path(__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.optgold(impl="torch.optim:Adam", reference="adam", dtype="float32", problem="cifar",
                             golden_dir={str(tiny_root)!r})
        def test_adam(optgold_case):
            optgold_case.assert_passes()

        @pytest.mark.optgold(impl="tests.mutants.adam_mutants:AdamEpsInsideSqrt", reference="adam", problem="cifar",
                             golden_dir={str(tiny_root)!r})
        def test_bug(optgold_case):
            optgold_case.assert_passes()
    """)
    result = pytester.runpytest_subprocess("-v")  # a subprocess: torch registers its native ops once per process
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_adam?tiny_l2_cosine-replay-float32? PASSED*", "*diverge at step 1 in*"])
