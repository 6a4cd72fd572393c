"""History storage round-trips, and `optgold history` finds, plots and gates on a known regression."""
import json
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from optgold.bench import store
from optgold.cli import main

MACHINE = {"node": "ci-1", "cpu": {"brand_raw": "Test CPU"},
           "optgold": {"torch": "2.13.0+cpu", "threads": 2, "device": "cpu", "model": "Test CPU",
                       "caches": {"L3": {"bytes": 1 << 25, "instances": 1, "total_bytes": 1 << 25}},
                       "bandwidth": {"copy_gbps": 20.0, "triad_gbps": 18.0, "update_gbps": 24.0,
                                     "best_gbps": 24.0}}}
OPTIONS = {"mode": "pedantic", "rounds": 5, "iterations": 1}


def write_history(directory, medians_by_name, start=datetime(2026, 1, 1, tzinfo=timezone.utc)):
    """One stored run per index, each with every benchmark's 5 step times around its median."""
    runs = max(len(m) for m in medians_by_name.values())
    rng = np.random.default_rng(0)
    for i in range(runs):
        entries = [store.benchmark_entry(name, "w", medians[i] * np.exp(rng.normal(0, 0.01, 5)), {"i": i}, OPTIONS)
                   for name, medians in medians_by_name.items() if i < len(medians)]
        commit = {"id": f"{i:07x}" + "0" * 33, "time": None, "author_time": None, "dirty": False, "project": "optgold",
                  "branch": "main"}
        store.save_run(directory, MACHINE, commit, entries, when=start + timedelta(hours=i))


def test_storage_round_trips(tmp_path):
    times = [0.010, 0.011, 0.009, 0.010, 0.012]
    entry = store.benchmark_entry("adam[few-large]", "few-large", times, {"gbps": 1.5}, OPTIONS)
    commit = {"id": "a" * 40, "dirty": True}
    path = store.save_run(tmp_path, MACHINE, commit, [entry])
    saved = json.loads(path.read_text())
    assert saved["machine_info"] == MACHINE and saved["commit_info"] == commit
    assert saved["benchmarks"][0]["stats"]["data"] == times
    assert saved["benchmarks"][0]["stats"]["median"] == pytest.approx(0.010)
    (series,) = store.load_series(tmp_path)
    assert series.benchmark == "optgold::adam[few-large]"
    assert series.machine == "Test CPU, 2 threads, cpu"
    (point,) = series.points
    assert (point.commit, point.dirty, point.torch, point.rounds) == ("a" * 40, True, "2.13.0+cpu", 5)
    from pytest_benchmark.stats import Stats

    stats = Stats()
    for t in times:
        stats.update(t)
    assert (point.q1, point.median, point.q3) == (stats.q1, stats.median, stats.q3)


def test_pytest_benchmark_reads_our_files(tmp_path):
    from pytest_benchmark.storage.file import FileStorage

    write_history(tmp_path, {"sgd[w]": [1e-3, 2e-3]})
    loaded = list(FileStorage(tmp_path, logger=None).load())
    assert len(loaded) == 2 and all(run["benchmarks"][0]["name"] == "sgd[w]" for _, run in loaded)


def test_series_are_ordered_by_time_and_split_by_machine(tmp_path):
    write_history(tmp_path, {"a": [3.0, 2.0, 1.0]})
    other = {**MACHINE, "optgold": {**MACHINE["optgold"], "threads": 8}}
    store.save_run(tmp_path, other, {"id": "f" * 40}, [store.benchmark_entry("a", "w", [5.0], {}, OPTIONS)])
    by_machine = {s.machine: s for s in store.load_series(tmp_path)}
    assert by_machine["Test CPU, 2 threads, cpu"].medians == pytest.approx([3.0, 2.0, 1.0], rel=0.05)
    assert len(by_machine["Test CPU, 8 threads, cpu"].points) == 1


def test_history_finds_plots_and_fails_on_a_regression_at_head(tmp_path, capsys):
    storage, plots = tmp_path / "store", tmp_path / "plots"
    steady = [10e-3] * 14
    regressed = [10e-3] * 10 + [11.5e-3] * 4
    write_history(storage, {"steady[w]": steady, "regressed[w]": regressed})
    code = main(["history", "--storage", str(storage), "--plot", str(plots), "--fail-on-regression"])
    out = capsys.readouterr().out
    assert code == 1
    assert "regression at head" in out and "regressed[w]" in out
    assert re.search(r"000000a: \+1[456]\.\d%", out)  # +15% at the 11th run's commit (0x0a)
    assert out.count(": +") == 1  # and it is the only one; the steady series has none
    pngs = sorted(p.name for p in plots.glob("*.png"))
    assert len(pngs) == 2 and all((plots / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    page = (plots / "index.html").read_text()
    assert all(p in page for p in pngs) and "regression at head" in page


def test_history_without_the_flag_reports_but_exits_0(tmp_path, capsys):
    write_history(tmp_path, {"regressed[w]": [1.0] * 10 + [1.2] * 4})
    assert main(["history", "--storage", str(tmp_path)]) == 0
    assert "regressed +2" in capsys.readouterr().out


def test_history_of_nothing_is_a_usage_error(tmp_path, capsys):
    assert main(["history", "--storage", str(tmp_path / "missing")]) == 2
    assert "no benchmark storage" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["history", "--storage", str(tmp_path / "empty")]) == 2
    assert "no stored benchmarks" in capsys.readouterr().err
