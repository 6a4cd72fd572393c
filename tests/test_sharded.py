"""--world-size N --sharding zero|fsdp2: IMPL on N ranks of torch.distributed (gloo, loopback), judged on the goldens.

Each test runs a case or two in replay: a rank pool starts in about a second, and a step of
three ranks on two cores costs milliseconds. The full grid is the benchmark's
(``python -m optgold.devtools.check_time --reference adam --world-size 3 --sharding fsdp2``).
"""
import os
import socket
import textwrap
import time

import pytest
import torch

from optgold.check import check
from optgold.reference.errors import UsageError
from tests.mutants.lamb_mutants import Lamb
from tests.mutants.muon_mutants import Muon
from tests.sharded_mutants import faults, fsdp2, zero

ONE = ("amsgrad_deep",)  # (4, 5, 3) and (40,): rows split 2/2 and 20/20 on 2 ranks, 2/2/0 and 14/14/12 on 3
# (3, 4) and (5,): 2/1 and 3/2 rows on 2 ranks, 1/1/1 and 2/2/1 on 3; with weight decay, and SGD's with Nesterov
UNEVEN = {"adam": ("weight_decay_chained",), "adamw": ("chained",), "sgd": ("nesterov_chained",)}
RESUMED = ("resume/after_10", "resume/after_20")
SHORT = ("resume/after_10",)  # 30 steps, (2, 2), (2, 4), (2, 2): the cheapest case where a step-1 bug shows


def _sharded(factory, ref, world, sharding, cases, **options):
    return check(factory, ref, world_size=world, sharding=sharding, modes=("replay",), cases=cases,
                 contracts=options.pop("contracts", "none"), **options)


def _failed(report):
    return [c for c in report.cases if c.status == "failed"]


def _descendants():
    """Every live process below this one (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [os.getpid()]
    while queue:
        children = parents.get(queue.pop(), [])
        found += children
        queue += children
    return found


# Adam in every sharding and world size, AdamW and SGD in two each (the README's table has every
# optimizer, sharding, world size and dtype as full checks)
PASSING = [(torch.optim.Adam, "adam", w, s) for w in (2, 3) for s in ("zero", "fsdp2")] + [
    (torch.optim.AdamW, "adamw", 3, "fsdp2"), (torch.optim.AdamW, "adamw", 2, "zero"),
    (torch.optim.SGD, "sgd", 3, "zero"), (torch.optim.SGD, "sgd", 2, "fsdp2")]


@pytest.mark.parametrize("factory,ref,world,sharding", PASSING,
                         ids=[f"{f.__name__}-{s}{w}" for f, _, w, s in PASSING])
def test_torch_optimizers_pass_sharded_on_uneven_shards(factory, ref, world, sharding):
    report = _sharded(factory, ref, world, sharding, UNEVEN[ref])
    assert report.passed, [c.message for c in _failed(report)]
    assert all(f"sharded: {sharding} on {world} ranks" in c.message for c in report.cases)


def test_float32_adam_passes_sharded():
    for sharding in ("zero", "fsdp2"):
        report = _sharded(torch.optim.Adam, "adam", 3, sharding, ONE, dtype="float32")
        assert report.passed, [c.message for c in _failed(report)]


@pytest.mark.parametrize("sharding", ["zero", "fsdp2"])
def test_state_saved_on_two_ranks_resumes_on_three(sharding):
    report = _sharded(torch.optim.Adam, "adam", 2, sharding, RESUMED, contracts="resume", resume_world_size=3)
    assert report.passed, [c.message for c in _failed(report)]
    assert all("sharded: %s on 2 ranks (gloo, 127.0.0.1), resumed on 3 after step" % sharding in c.message
               for c in report.cases)


MUTANTS = [  # (factory, reference, sharding, world, resume onto, cases, the step, the rank named)
    (zero.StateOfRankZeroOnly, "adam", "zero", 2, None, ("resume/after_10",), 11, "rank 1 of 2"),
    (zero.StepAtConstruction, "adam", "zero", 2, None, ONE, 1, "rank"),
    (zero.ReloadsItsOwnRankFile, "adam", "zero", 2, 3, ("resume/after_10",), 11, "rank 1 raised"),
    (zero.GradientsReducedTwice, "adam", "zero", 3, None, ONE, 1, "rank"),
    (fsdp2.LambShardNorm, "lamb", "fsdp2", 2, None, SHORT, 1, "rank"),
    (fsdp2.MuonShardOrthogonalized, "muon", "fsdp2", 2, None, SHORT, 1, "rank"),
    (fsdp2.MuonNormAveraged, "muon", "fsdp2", 2, None, SHORT, 1, "rank"),
    (zero.PartitionNotBroadcast, "adam", "zero", 2, None, ONE, 1, "on rank 1 and"),
]


@pytest.mark.parametrize("factory,ref,sharding,world,resumed,cases,step,rank", MUTANTS,
                         ids=[m[0].__name__ for m in MUTANTS])
def test_each_sharding_mutant_is_caught_at_its_step_with_its_rank(factory, ref, sharding, world, resumed, cases,
                                                                  step, rank):
    report = _sharded(factory, ref, world, sharding, cases, contracts="resume", resume_world_size=resumed)
    failed = _failed(report)
    assert failed, "the mutant passed"
    assert failed[0].first_divergent_step == step, failed[0].message
    assert rank in failed[0].message


@pytest.mark.parametrize("factory,ref,sharding,world,cases,resumed", [
    (zero.Zero, "adam", "zero", 2, ("resume/after_10",), 3), (Lamb, "lamb", "fsdp2", 3, ("default_rotated",), None),
    # on 3 ranks, DTensor refuses the hand-written Muon's p.add_ on an uneven row shard (README)
    (Muon, "muon", "fsdp2", 2, SHORT, None)], ids=["Zero", "Lamb", "Muon"])
def test_the_mutants_bases_pass(factory, ref, sharding, world, cases, resumed):
    report = _sharded(factory, ref, world, sharding, cases, contracts="resume", resume_world_size=resumed)
    assert report.passed, [c.message for c in _failed(report)]


@pytest.mark.parametrize("factory,what", [
    (faults.Raises, "rank 1 raised RuntimeError: injected on rank 1"),
    (faults.Hangs, "faults.py"),
    (faults.Exits, "rank 1 exited with code 3"),
    (faults.Killed, "rank 1 was killed by SIGKILL")], ids=["raises", "hangs", "exits", "killed"])
def test_a_failing_rank_fails_its_case_with_rank_and_step_and_leaves_no_process(factory, what):
    before = set(_descendants())
    started = time.monotonic()
    report = _sharded(factory, "adam", 2, "zero", ONE, timeout=6.0)
    elapsed = time.monotonic() - started
    failed = _failed(report)
    assert len(failed) == 1 and failed[0].first_divergent_step == faults.AT, failed[0].message
    assert what in failed[0].message and f"at step {faults.AT}" in failed[0].message
    assert elapsed < 6.0 + 4.0  # named within the case's time limit, with the pool's start and the ending
    assert set(_descendants()) - before == set()
    if factory is faults.Hangs:  # the rank that hangs is named, not the one waiting for it in a collective
        assert "rank 1 was in" in failed[0].message and "rank 0 waited in a collective for it" in failed[0].message


def test_a_taken_port_is_a_usage_error_naming_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"port {port} on 127.0.0.1 is taken"):
            _sharded(torch.optim.Adam, "adam", 2, "zero", ONE, master_port=port)


def test_contracts_not_run_sharded_are_skipped_with_the_reason():
    report = _sharded(torch.optim.Adam, "adam", 2, "fsdp2", ("resume/reordered_after_12", "amp/scaler_step"),
                      contracts="resume,amp")
    reasons = {c.id: c.message for c in report.cases}
    assert all(c.status == "skipped" for c in report.cases)
    assert "match state to parameters by name" in reasons["resume/reordered_after_12"]
    assert "GradScaler" in reasons["amp/scaler_step"]


def test_zero_loads_reordered_parameters_by_position_as_torch_does():
    report = _sharded(torch.optim.Adam, "adam", 2, "zero", ("resume/reordered_after_12",), contracts="resume")
    assert report.passed, [c.message for c in _failed(report)]


@pytest.mark.parametrize("stage", [1, 3])
def test_deepspeed_zero_passes_in_float32_and_is_not_run_in_float64(stage):
    pytest.importorskip("deepspeed", reason="DeepSpeed is optgold's deepspeed extra: pip install 'optgold[deepspeed]'")
    report = _sharded(torch.optim.Adam, "adam", 2, f"deepspeed{stage}", ONE, dtype="float32")
    assert report.passed, [c.message for c in _failed(report)]
    skipped = _sharded(torch.optim.Adam, "adam", 2, f"deepspeed{stage}", ONE).cases
    assert [c.status for c in skipped] == ["skipped"] and "fp32 master weights" in skipped[0].message


def test_the_plugin_makes_an_item_per_case_and_sharding_and_names_the_rank(pytester, monkeypatch):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(textwrap.dedent("""
        import pytest

        @pytest.mark.optgold(impl="torch.optim:Adam", reference="adam", world_size=2, sharding="fsdp2",
                             modes=["replay"], contracts="resume", cases="resume/after_10")
        def test_adam(optgold_case):
            optgold_case.assert_passes()

        @pytest.mark.optgold(impl="tests.sharded_mutants.fsdp2:LambShardNorm", reference="lamb", world_size=2,
                             sharding="fsdp2", modes=["replay"], contracts="none", cases=["default_rotated"])
        def test_lamb(optgold_case):
            optgold_case.assert_passes()
    """))
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_adam?resume/after_10-replay-float64-fsdp22? PASSED*",
                                 "*test_lamb?default_rotated-replay-float64-fsdp22? FAILED*"], consecutive=False)
    result.stdout.fnmatch_lines(["*params diverge at step 1*held by rank 0 of 2*"])


@pytest.mark.parametrize("fields,message", [
    ({"resume_world_size": 3}, "--resume-world-size needs --world-size"),
    ({"world_size": 0}, "must be a whole number, 1 or more"),
    ({"world_size": 2, "sharding": "ddp"}, "sharding 'ddp' is not one of zero, fsdp2, deepspeed1, deepspeed2, deepspeed3"),
    ({"world_size": 2, "compile": True}, "excludes --compile"),
    ({"world_size": 2, "master_port": 70000}, "master port 70000"),
])
def test_sharded_settings_are_validated_before_anything_runs(fields, message):
    with pytest.raises(UsageError, match=message):
        check(torch.optim.Adam, "adam", **fields)
