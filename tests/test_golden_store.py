"""Golden files: exact round trip, reproducible bytes, tamper detection, no unpickling, regeneration."""
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from optgold.golden import generate, load, store

PACKAGED = store.PACKAGED_DIR
ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def golden_copy(tmp_path):
    target = tmp_path / "golden"
    shutil.copytree(PACKAGED, target)
    return target


def sample():
    meta = {"reference": "x", "cases": [{"id": "a", "hp": {"lr": 0.1, "betas": [0.9, 0.999]}, "steps": 3}]}
    arrays = {
        "a/params": np.array([[1 / 3, -0.0, 1e-300, 5e-324], [np.pi, -np.e, 1e300, 2.0 ** -1074]]),
        "a/drift/float32": np.linspace(0, 1, 7),
        "a/empty": np.zeros((0, 3)),
        "b/ints": np.arange(5, dtype=np.int64),
    }
    return meta, arrays


def write_raw(directory, name, data, format_version=store.FORMAT_VERSION):
    """A golden file of arbitrary bytes, listed in a manifest with its correct hash."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)
    manifest = {"format_version": format_version, "generator_version": "1",
                "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "cases": 1}}}
    (directory / store.MANIFEST).write_text(json.dumps(manifest))


def zip_of(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# -- round trip and determinism -------------------------------------------------------------------

def test_write_then_read_round_trips_exactly(tmp_path):
    meta, arrays = sample()
    manifest = store.write(tmp_path, {"x.npz": (meta, arrays)}, "7")
    assert manifest == json.loads((tmp_path / store.MANIFEST).read_text())
    assert manifest["generator_version"] == "7" and manifest["files"]["x.npz"]["cases"] == 1
    meta_back, arrays_back = store.read(tmp_path, "x.npz")
    assert meta_back == meta
    assert set(arrays_back) == set(arrays)
    for name, value in arrays.items():
        assert arrays_back[name].dtype == value.dtype and arrays_back[name].shape == value.shape
        assert arrays_back[name].tobytes() == value.tobytes(), name  # bit-exact, -0.0 and subnormals too


def test_encode_is_byte_for_byte_deterministic():
    meta, arrays = sample()
    shuffled_meta = dict(reversed(list(meta.items())))
    shuffled_arrays = dict(reversed(list(arrays.items())))
    assert store.encode(meta, arrays) == store.encode(meta, arrays) == store.encode(shuffled_meta, shuffled_arrays)
    with zipfile.ZipFile(io.BytesIO(store.encode(meta, arrays))) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.namelist()[0] == "meta.json"


def test_encode_is_the_same_in_another_process():
    code = ("import hashlib, sys; sys.path.insert(0, 'tests'); from test_golden_store import sample; "
            "from golden import store; print(hashlib.sha256(store.encode(*sample())).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}).stdout.strip()
               for seed in ("1", "2")}
    assert digests == {hashlib.sha256(store.encode(*sample())).hexdigest()}


@pytest.mark.parametrize("name", ["sgd.npz", "adam.npz", "adamw.npz"])
def test_reencoding_a_packaged_golden_reproduces_its_bytes(name):
    meta, arrays = store.read(PACKAGED, name)
    assert store.encode(meta, arrays) == (PACKAGED / name).read_bytes()


def test_packaged_goldens_load():
    for ref_name in ("sgd", "adam", "adamw"):
        cases = load.load_cases(ref_name, PACKAGED)
        assert cases and all(c.params.shape == (c.steps + 1, c.size) for c in cases)


# -- tampering ------------------------------------------------------------------------------------

def test_flipped_byte_is_detected_by_sha256(golden_copy):
    path = golden_copy / "adam.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(store.GoldenError, match="sha256"):
        store.read(golden_copy, "adam.npz")
    with pytest.raises(store.GoldenError, match="sha256"):
        load.load_cases("adam", golden_copy)


def test_truncated_file_is_detected(golden_copy):
    path = golden_copy / "sgd.npz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(store.GoldenError, match="sha256"):
        store.read(golden_copy, "sgd.npz")


def test_deleted_file_is_reported_missing(golden_copy):
    (golden_copy / "adamw.npz").unlink()
    with pytest.raises(store.GoldenError, match="missing"):
        store.read(golden_copy, "adamw.npz")


def test_file_absent_from_manifest_is_refused(golden_copy):
    (golden_copy / "unlisted.npz").write_bytes((golden_copy / "sgd.npz").read_bytes())
    with pytest.raises(store.GoldenError, match="lists no"):
        store.read(golden_copy, "unlisted.npz")


def test_missing_manifest_is_reported(golden_copy):
    (golden_copy / store.MANIFEST).unlink()
    with pytest.raises(store.GoldenError, match="no golden manifest"):
        store.read(golden_copy, "adam.npz")


@pytest.mark.parametrize("text", ['{"files": ', "", "\x00\x01", "[1, 2"])
def test_corrupt_manifest_json_is_refused(golden_copy, text):
    (golden_copy / store.MANIFEST).write_text(text)
    with pytest.raises(store.GoldenError, match="corrupt manifest"):
        store.read(golden_copy, "adam.npz")


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_wrong_format_version_is_refused(golden_copy, version):
    path = golden_copy / store.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["format_version"] = version
    path.write_text(json.dumps(manifest))
    with pytest.raises(store.GoldenError, match="format"):
        store.read(golden_copy, "adam.npz")


def test_manifest_that_is_not_an_object_is_refused(golden_copy):
    (golden_copy / store.MANIFEST).write_text("[1, 2]")
    with pytest.raises(store.GoldenError):
        store.read(golden_copy, "adam.npz")


def test_manifest_without_files_is_refused(golden_copy):
    (golden_copy / store.MANIFEST).write_text(json.dumps({"format_version": store.FORMAT_VERSION}))
    with pytest.raises(store.GoldenError):
        store.read(golden_copy, "adam.npz")


# -- malformed archives with a correct hash -------------------------------------------------------

@pytest.mark.parametrize("members", [
    {"meta.json": "{not json"},
    {"meta.json": b"\xff\xfe\x00garbage"},
    {"params.npy": b"\x93NUMPY"},  # no meta.json at all
], ids=["meta-not-json", "meta-not-text", "no-meta"])
def test_archive_with_malformed_meta_is_refused(tmp_path, members):
    write_raw(tmp_path, "adam.npz", zip_of(members))
    with pytest.raises(store.GoldenError, match="unreadable"):
        store.read(tmp_path, "adam.npz")


def test_not_a_zip_is_refused(tmp_path):
    write_raw(tmp_path, "adam.npz", b"this is not an archive")
    with pytest.raises(store.GoldenError, match="unreadable"):
        store.read(tmp_path, "adam.npz")


@pytest.mark.parametrize("meta", [{"cases": [{"id": "a"}]}, {"cases": 3}, [], {"cases": [{"id": "a", "shapes": 1}]}],
                         ids=["case-missing-keys", "cases-not-list", "meta-not-object", "shapes-not-list"])
def test_case_metadata_with_missing_fields_is_refused(tmp_path, meta):
    write_raw(tmp_path, "adam.npz", store.encode(meta, {}))
    with pytest.raises(store.GoldenError, match="malformed case metadata"):
        load.load_cases("adam", tmp_path)


def test_case_with_misshapen_arrays_is_refused(tmp_path):
    meta, arrays = store.read(PACKAGED, "sgd.npz")
    first = meta["cases"][0]["id"]
    arrays[f"{first}/params"] = arrays[f"{first}/params"][:-1]
    store.write(tmp_path, {"sgd.npz": (meta, arrays)}, generate.GENERATOR_VERSION)
    with pytest.raises(store.GoldenError, match="misshapen"):
        load.load_cases("sgd", tmp_path)


class Payload:
    """Unpickling this creates the file ``target``: proof that a pickle ran."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.target),)


def test_object_array_is_refused_and_never_unpickled(tmp_path):
    target = tmp_path / "unpickled"
    member = io.BytesIO()
    np.lib.format.write_array(member, np.array([Payload(str(target))], dtype=object), allow_pickle=True)
    meta = {"reference": "adam", "cases": []}
    data = zip_of({"meta.json": json.dumps(meta), "evil.npy": member.getvalue()})
    # the payload is live: plain np.load with pickling allowed would run it
    with np.load(io.BytesIO(data), allow_pickle=True) as archive:
        archive["evil"]
    assert target.exists()
    target.unlink()

    write_raw(tmp_path / "golden", "adam.npz", data)
    with pytest.raises(store.GoldenError, match="unreadable"):
        store.read(tmp_path / "golden", "adam.npz")
    with pytest.raises(store.GoldenError):
        load.load_cases("adam", tmp_path / "golden")
    assert not target.exists(), "loading a golden unpickled an object"


# -- regeneration check ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def regenerated():
    """golden.generate.check, with the (deterministic) regeneration done once for the module.

    The first check runs the real generator with the stored 50-digit certificates kept (they
    are nine tenths of its time: test_certificates_are_reproduced, in the slow tier, makes them
    again); later checks in this module reuse the fresh manifest it produced.
    """
    real_generate, cache = generate.generate, {}

    def generate_once(directory, progress=None, names=None, certify=True):
        if names not in cache:
            cache[names] = real_generate(directory, progress, names, certify)
        return cache[names]

    before = {p.name: p.read_bytes() for p in PACKAGED.iterdir() if p.is_file()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generate, "generate", generate_once)
        yield generate.check(PACKAGED, stored_certificates_kept=True), generate.check
    assert {p.name: p.read_bytes() for p in PACKAGED.iterdir() if p.is_file()} == before, "check modified golden/data"


def test_check_reproduces_the_packaged_goldens(regenerated):
    problems_found, _ = regenerated
    assert problems_found == {}


@pytest.mark.slow
def test_certificates_are_reproduced():
    """`optgold generate --check` as it runs: every golden made again, certificates included (minutes)."""
    assert generate.check(PACKAGED) == {}


def test_kept_certificates_are_the_stored_ones_and_a_changed_one_shows(golden_copy):
    kept = generate.stored_certificates(golden_copy)
    meta, _ = store.read(golden_copy, "contracts_sgd.npz")
    assert kept["contracts_sgd.npz"] == {m["id"]: m["certificate"] for m in meta["cases"]}
    assert "schedule_step_lr.npz" not in kept and kept["sgd.npz"]
    changed = {**kept, "sgd.npz": {cid: {**c, "replay_max_abs_error": 1.0} for cid, c in kept["sgd.npz"].items()}}
    files = generate.build(["sgd"], changed)
    assert all(m["certificate"]["replay_max_abs_error"] == 1.0 for m in files["sgd.npz"][0]["cases"])


def test_check_reports_a_tampered_file(regenerated, golden_copy):
    _, check = regenerated
    path = golden_copy / "adam.npz"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert check(golden_copy) == {"adam.npz": "stored file does not match its manifest"}


def test_check_reports_a_consistently_forged_golden(regenerated, golden_copy):
    """A changed trajectory with a manifest updated to match is still not what the reference produces."""
    _, check = regenerated
    meta, arrays = store.read(golden_copy, "sgd.npz")
    key = next(k for k in arrays if k.endswith("/params"))
    arrays[key] = arrays[key] + 1e-15
    manifest = store.write(golden_copy, {"sgd.npz": (meta, arrays)}, generate.GENERATOR_VERSION)["files"]
    full = json.loads((PACKAGED / store.MANIFEST).read_text())
    full["files"].update(manifest)
    (golden_copy / store.MANIFEST).write_text(json.dumps(full))
    assert check(golden_copy) == {"sgd.npz": "stored sha256 differs from the regenerated file"}


def test_check_reports_manifest_drift(regenerated, golden_copy):
    _, check = regenerated
    path = golden_copy / store.MANIFEST
    manifest = json.loads(path.read_text())
    del manifest["files"]["adamw.npz"]
    manifest["files"]["retired.npz"] = {"sha256": "0" * 64, "cases": 1}
    manifest["generator_version"] = "0"
    path.write_text(json.dumps(manifest))
    found = check(golden_copy)
    assert set(found) == {"adamw.npz", "retired.npz", store.MANIFEST}
    assert "missing" in found["adamw.npz"] and "no longer generated" in found["retired.npz"]


def test_check_reports_a_deleted_file(regenerated, golden_copy):
    _, check = regenerated
    (golden_copy / "sgd.npz").unlink()
    assert "sgd.npz" in check(golden_copy)


def test_scheduler_goldens_do_not_import_the_generator():
    """generate imports schedules (it writes their files); the other way round would be a cycle."""
    import ast

    tree = ast.parse((ROOT / "golden" / "schedules.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not any(name and name.endswith("generate") for name in imported)
    assert not any(alias.name == "generate" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   for alias in node.names)
