"""`optgold bench`: the output's structure on a tiny smoke run, and one-line usage errors. Timings are not asserted."""
import json

import pytest

from optgold.cli import main

TINY = ["--workload", "tiny", "--pairs", "6", "--warmup", "1", "--self-check", "100"]


def test_smoke_run_prints_the_table_writes_json_and_saves_history(tmp_path, capsys):
    report, storage = tmp_path / "bench.json", tmp_path / "store"
    code = main(["bench", "torch.optim:SGD", "--reference", "sgd", "--hp", "momentum=0.9", "--impl-arg",
                 "foreach=true", "--baseline", "torch.optim:SGD", "--baseline-arg", "foreach=false", *TINY,
                 "--json", str(report), "--save", "--storage", str(storage), "--name", "sgd-foreach"])
    out = capsys.readouterr().out
    assert code in (0, 1, 3)  # the verdict depends on timings, which a unit test does not judge
    for heading in ("step", "params/s", "GB/s", "% bw", "state B/param", "peak MiB", "ratio [interval]", "verdict",
                    "why"):
        assert heading in out
    assert "bandwidth probe" in out and "20 B/param" in out and "gate self-check" in out

    document = json.loads(report.read_text())
    assert document["hyperparameters"]["momentum"] == 0.9 and document["impl_args"] == {"foreach": True}
    assert set(document["machine"]) >= {"torch", "threads", "model", "caches", "bandwidth"}
    (workload,) = document["workloads"]
    impl = workload["impl"]
    assert impl["bytes_per_param"] == 20 and impl["params"] == 4096 and len(impl["times_s"]) >= 6
    assert impl["gbps"] == pytest.approx(20 * 4096 / impl["median_s"] / 1e9)
    probe = document["machine"]["bandwidth"]
    assert probe["best_gbps"] == max(probe["copy_gbps"], probe["triad_gbps"], probe["update_gbps"])
    assert impl["fraction_of_bandwidth"] == pytest.approx(impl["gbps"] / probe["best_gbps"])
    assert impl["state_bytes_per_param"] == 4  # the momentum buffer
    assert set(workload["verdict"]) >= {"ratio", "ratio_low", "ratio_high", "pairs", "verdict", "reason"}
    assert workload["verdict"]["pairs"] == len(impl["times_s"])
    gate = document["gate"]
    assert gate["exit_code"] == code and gate["verdict"] == workload["verdict"]["verdict"]
    assert [r["slowdown"] for r in gate["self_check"]] == [0.0, 0.02, 0.05]

    assert main(["history", "--storage", str(storage)]) == 0
    assert "optgold::sgd-foreach[tiny]" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["nosuch.module:Adam", "--reference", "adam"], "cannot import module 'nosuch.module'"),
    (["torch.optim:NoSuch", "--reference", "adam"], "has no attribute 'NoSuch'"),
    (["torch.optim:Adam", "--reference", "no_such_reference"], "unknown reference 'no_such_reference'"),
    (["torch.optim:Adam", "--reference", "adam", "--hp", "momentum=0.9"], "not a hyperparameter of 'adam'"),
    (["torch.optim:Adam", "--reference", "adam", "--impl-arg", "bogus=1"], "unexpected keyword argument 'bogus'"),
    (["torch.optim:Adam", "--reference", "adam", "--baseline-arg", "fused=true"], "--baseline-arg needs --baseline"),
    (["torch.optim:Adam", "--reference", "adam", "--pairs", "3"], "--pairs must be at least 6"),
    (["torch.optim:Adam", "--reference", "adam", "--budget", "0"], "--budget must be above 0 seconds"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_unknown_workload_is_an_argparse_error():
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "torch.optim:Adam", "--reference", "adam", "--workload", "huge"])
    assert exit_info.value.code == 2


@pytest.fixture
def no_probe(monkeypatch):
    """The bandwidth probe streams arrays 4x the caches (seconds); these tests judge exit codes, not bandwidth."""
    from optgold.bench import bandwidth

    monkeypatch.setattr(bandwidth, "probe", lambda *a, **k: {
        "array_bytes": 1 << 20, "repeats": 1, "copy_gbps": 1.0, "triad_gbps": 1.0, "update_gbps": 1.0,
        "best_gbps": 1.0})


def test_a_budget_too_small_to_decide_exits_3(no_probe, tmp_path, capsys):
    # 6 pairs can show nothing at the gate's levels, and the budget pays for no second look
    report = tmp_path / "bench.json"
    code = main(["bench", "torch.optim:Adam", "--reference", "adam", "--baseline", "torch.optim:Adam",
                 "--workload", "tiny", "--pairs", "6", "--warmup", "0", "--budget", "0.001", "--self-check", "0",
                 "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 3
    assert "inconclusive" in out and "budget spent" in out and "INCONCLUSIVE" in out
    document = json.loads(report.read_text())
    assert document["gate"]["verdict"] == "inconclusive" and document["gate"]["exit_code"] == 3
    assert document["workloads"][0]["verdict"]["pairs"] == 6


@pytest.mark.parametrize("workload", ["tiny", "many-small"])
def test_a_ten_percent_slower_impl_never_exits_0(no_probe, workload, capsys):
    code = main(["bench", "optgold.bench.slowed:optimizer", "--reference", "adam", "--impl-arg", "slowdown=0.10",
                 "--baseline", "torch.optim:Adam", "--workload", workload, "--warmup", "1", "--budget", "2",
                 "--self-check", "0", "--threads", "1"])
    out = capsys.readouterr().out
    assert code in (1, 3), out
