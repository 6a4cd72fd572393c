"""Goldens are written atomically: a check reading while `optgold generate` writes never finds a golden
corrupt when the goldens before and after the write were both valid, and what a killed writer leaves
behind is never read as a golden.

The writer stages every file as a hidden .partial beside it and renames it into place, the manifest
last (golden/store.py). The goldens here are copies of small packaged ones, rewritten with a revision
number in their metadata so that every write changes every file's hash.
"""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from optgold.golden import load, schedules, store
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import load as cifar_load

QUADRATIC = ("sgd.npz", "schedule_step_lr.npz")


def packaged(directory, names):
    return {name: store.read(directory, name) for name in names}


def revised(goldens, revision):
    return {name: ({**meta, "revision": revision}, arrays) for name, (meta, arrays) in goldens.items()}


@pytest.fixture
def goldens(tmp_path):
    """tmp_path/q holds the SGD and StepLR goldens, tmp_path/q/cifar the CIFAR SGD golden, at revision -1."""
    quadratic, cifar = packaged(store.PACKAGED_DIR, QUADRATIC), packaged(store.PACKAGED_DIR / "cifar", ["sgd.npz"])
    store.write(tmp_path / "q", revised(quadratic, -1), "test")
    store.write(tmp_path / "q" / "cifar", revised(cifar, -1), "test")
    return tmp_path / "q"


def partials(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name.endswith(".partial"))


# -- a reader beside a writer ------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from optgold.golden import store

    directory, rounds = Path(sys.argv[1]), int(sys.argv[2])
    quadratic = {n: store.read(store.PACKAGED_DIR, n) for n in ("sgd.npz", "schedule_step_lr.npz")}
    cifar = {"sgd.npz": store.read(store.PACKAGED_DIR / "cifar", "sgd.npz")}
    print("ready", flush=True)
    for revision in range(rounds):
        for folder, goldens in ((directory, quadratic), (directory / "cifar", cifar)):
            store.write(folder, {n: ({**m, "revision": revision}, a) for n, (m, a) in goldens.items()}, "test")
""")


def test_a_reader_never_sees_a_corrupt_golden_while_another_process_rewrites_them(goldens):
    data = cifar_data.load()
    reads = {
        "store.read": lambda: store.read(goldens, "sgd.npz")[0]["revision"],
        "load.load_cases": lambda: load.load_cases("sgd", goldens),
        "schedules.load_cases": lambda: schedules.load_cases("step_lr", goldens),
        "cifar load_cases": lambda: cifar_load.load_cases("sgd", goldens / "cifar", data, verify_data=False),
    }
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(goldens), "120"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "ready\n"
        errors, revisions, count = [], set(), 0
        while writer.poll() is None or count < 300:
            for name, read in reads.items():
                try:
                    result = read()
                except store.GoldenError as error:
                    errors.append(f"{name}: {error}")
                else:
                    if name == "store.read":
                        revisions.add(result)
                count += 1
    finally:
        writer.kill() if writer.poll() is None else None
        writer.wait()
    assert writer.returncode == 0
    assert errors == [], f"{len(errors)} of {count} reads failed; first: {errors[0]}"
    assert count >= 300 and len(revisions) >= 10, (count, sorted(revisions))  # the reads did overlap the writes
    assert partials(goldens) == partials(goldens / "cifar") == []


@pytest.fixture
def paused_before_the_manifest(monkeypatch):
    """store.write, stopped after renaming its archives and before renaming its manifest, until released."""
    renamed, release, real = threading.Event(), threading.Event(), os.replace

    def replace(source, target):
        if Path(target).name == store.MANIFEST and Path(source).name.endswith(".partial"):
            renamed.set()
            assert release.wait(30)
        real(source, target)

    monkeypatch.setattr(store.os, "replace", replace)
    return renamed, release


def test_a_reader_waits_out_the_window_between_an_archive_and_its_manifest(goldens, paused_before_the_manifest):
    renamed, release = paused_before_the_manifest
    new = revised(packaged(goldens, ["sgd.npz"]), 7)
    writer = threading.Thread(target=store.write, args=(goldens, new, "test", True))
    writer.start()
    assert renamed.wait(30)
    assert store.sha256((goldens / "sgd.npz").read_bytes()) != store.read_manifest(goldens)["files"]["sgd.npz"][
        "sha256"], "the new archive is in place, the manifest still the old one"
    seen = []
    reader = threading.Thread(target=lambda: seen.append(store.read(goldens, "sgd.npz")[0]["revision"]))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive(), "the reader waits for the manifest instead of reporting a mismatch"
    release.set()
    writer.join(30)
    reader.join(30)
    assert seen == [7]


def test_a_corrupt_file_is_reported_at_once_when_no_write_is_under_way(goldens):
    data = bytearray((goldens / "sgd.npz").read_bytes())
    data[len(data) // 2] ^= 1
    (goldens / "sgd.npz").write_bytes(bytes(data))
    started = time.perf_counter()
    with pytest.raises(store.GoldenError, match="sha256 does not match the manifest"):
        store.read(goldens, "sgd.npz")
    assert time.perf_counter() - started < 1.0


# -- a killed writer ------------------------------------------------------------------------------------

KILLED = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from optgold.golden import store

    directory, at = Path(sys.argv[1]), sys.argv[2]
    real = os.replace

    def replace(source, target):
        if Path(target).name == at:
            os.kill(os.getpid(), signal.SIGKILL)
        real(source, target)

    store.os.replace = replace
    goldens = {n: store.read(directory, n) for n in ("sgd.npz", "schedule_step_lr.npz")}
    store.write(directory, {n: ({**m, "revision": "killed"}, a) for n, (m, a) in goldens.items()}, "test")
""")


def kill_a_writer(directory, at):
    """Run store.write in a process killed (SIGKILL) just before it renames ``at`` into place."""
    result = subprocess.run([sys.executable, "-c", KILLED, str(directory), at], capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL, result.stderr


def age(paths, seconds):
    for path in paths:
        os.utime(path, (time.time() - seconds,) * 2)


def test_what_a_killed_writer_left_is_not_read_as_a_golden(goldens):
    before = {p.name: p.read_bytes() for p in goldens.iterdir() if p.is_file()}
    kill_a_writer(goldens, "schedule_step_lr.npz")  # after staging everything, before the first rename
    left = partials(goldens)
    assert sorted(name.split(".")[1] for name in left) == ["MANIFEST", "schedule_step_lr", "sgd"], left
    assert {p.name: p.read_bytes() for p in goldens.iterdir() if p.is_file() and p.name in before} == before
    assert store.read(goldens, "sgd.npz")[0]["revision"] == -1
    assert len(load.load_cases("sgd", goldens)) > 0 and len(schedules.load_cases("step_lr", goldens)) > 0
    assert set(store.read_manifest(goldens)["files"]) == set(QUADRATIC)


def test_the_next_write_removes_what_a_killed_writer_left(goldens):
    kill_a_writer(goldens, store.MANIFEST)
    left = [goldens / name for name in partials(goldens)]
    assert [p.name.split(".")[1] for p in left] == ["MANIFEST"]
    store.write(goldens, revised(packaged(store.PACKAGED_DIR, ["sgd.npz"]), 2), "test", merge=True)
    assert all(p.exists() for p in left), "a fresh .partial may belong to a write under way: kept"
    age(left, store.STALE_SECONDS + 60)
    store.write(goldens, revised(packaged(store.PACKAGED_DIR, ["sgd.npz"]), 3), "test", merge=True)
    assert partials(goldens) == []
    assert store.read(goldens, "sgd.npz")[0]["revision"] == 3


def test_a_writer_killed_between_renames_is_reported_not_waited_for_forever(goldens):
    """Killed after renaming its archives, before its manifest: the archives no longer match it,
    a true corruption; reported after a bounded wait while its staged manifest is fresh, at once
    when it is stale."""
    kill_a_writer(goldens, store.MANIFEST)
    rebuild = f"`optgold generate --golden-dir {goldens}`"
    started = time.perf_counter()
    with pytest.raises(store.GoldenError, match="sha256 does not match the manifest") as raised:
        store.read(goldens, "sgd.npz")
    assert str(raised.value).endswith(rebuild)
    assert time.perf_counter() - started < 10
    age([goldens / name for name in partials(goldens)], store.STALE_SECONDS + 60)
    started = time.perf_counter()
    with pytest.raises(store.GoldenError, match="sha256 does not match the manifest"):
        store.read(goldens, "sgd.npz")
    assert time.perf_counter() - started < 1.0


# -- what a write leaves --------------------------------------------------------------------------------

def test_a_failed_write_changes_nothing_and_leaves_no_partial_file(goldens):
    before = {p.name: p.read_bytes() for p in goldens.iterdir() if p.is_file()}
    bad = {"sgd.npz": store.read(goldens, "sgd.npz"), "zzz.npz": ({"cases": []}, {"x": np.array([object()])})}
    with pytest.raises(ValueError):
        store.write(goldens, bad, "test", merge=True)  # sgd.npz is staged before zzz.npz fails to encode
    assert {p.name: p.read_bytes() for p in goldens.iterdir() if p.is_file()} == before
    assert partials(goldens) == []


def test_written_files_have_the_usual_permissions(goldens):
    umask = os.umask(0)
    os.umask(umask)
    for name in (*QUADRATIC, store.MANIFEST):
        assert (goldens / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_rewriting_the_same_goldens_gives_the_same_bytes(goldens, tmp_path):
    first = {p.name: p.read_bytes() for p in goldens.iterdir() if p.is_file()}
    store.write(goldens, revised(packaged(store.PACKAGED_DIR, QUADRATIC), -1), "test")
    assert {p.name: p.read_bytes() for p in goldens.iterdir() if p.is_file()} == first
    store.write(tmp_path / "packaged", packaged(store.PACKAGED_DIR, ["sgd.npz"]), "3")
    assert (tmp_path / "packaged" / "sgd.npz").read_bytes() == (store.PACKAGED_DIR / "sgd.npz").read_bytes()
