"""Golden files: deterministic .npz archives plus a manifest of sha256 hashes.

Each reference has one archive holding ``meta.json`` (the cases, as JSON) and one
``.npy`` member per array. Archives are written byte for byte reproducibly (fixed
member order and timestamps) so that regeneration can be proven by hash. Loading
verifies the hash first and never unpickles.
"""
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
PACKAGED_DIR = Path(__file__).parent / "data"
_EPOCH = (1980, 1, 1, 0, 0, 0)


class GoldenError(Exception):
    """A golden file is missing, corrupt, tampered with, or of another format."""


def golden_dir(override=None):
    """Where goldens are read from: the argument, $OPTGOLD_GOLDEN_DIR, or the packaged data."""
    return Path(override or os.environ.get("OPTGOLD_GOLDEN_DIR") or PACKAGED_DIR)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def encode(meta, arrays):
    """The archive's bytes: meta.json first, then arrays in sorted order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        def put(name, data):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        put("meta.json", json.dumps(meta, indent=1, sort_keys=True))
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            put(name + ".npy", member.getvalue())
    return buffer.getvalue()


def decode(data, label):
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(archive["meta.json"])
            arrays = {name: archive[name] for name in archive.files if name != "meta.json"}  # npz strips .npy
    except (ValueError, KeyError, OSError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise GoldenError(f"{label}: unreadable golden archive ({error}); regenerate with `optgold generate`")
    return meta, arrays


def write(directory, files, generator_version, merge=False):
    """Write {file name: (meta, arrays)} and a manifest that covers them.

    With ``merge``, the manifest keeps its entries for files not written now.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    entries = dict(read_manifest(directory)["files"]) if merge and (directory / MANIFEST).exists() else {}
    for name, (meta, arrays) in sorted(files.items()):
        data = encode(meta, arrays)
        (directory / name).write_bytes(data)
        entries[name] = {"sha256": sha256(data), "cases": len(meta["cases"])}
    manifest = {"format_version": FORMAT_VERSION, "generator_version": generator_version, "files": entries}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def read_manifest(directory):
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise GoldenError(f"no golden manifest at {path}; run `optgold generate`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GoldenError(f"{path}: corrupt manifest ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise GoldenError(f"{path}: golden format {manifest.get('format_version') if isinstance(manifest, dict) else '?'}"
                          f" is not {FORMAT_VERSION}; regenerate with `optgold generate`")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("sha256"), str) for entry in files.values()):
        raise GoldenError(f"{path}: malformed manifest (each file needs a sha256); restore it or run `optgold generate`")
    return manifest


def read(directory, name):
    """(meta, arrays) of one golden file, after checking its hash against the manifest."""
    directory = Path(directory)
    entry = read_manifest(directory)["files"].get(name)
    if entry is None:
        raise GoldenError(f"{directory / MANIFEST} lists no {name}; run `optgold generate`")
    try:
        data = (directory / name).read_bytes()
    except FileNotFoundError:
        raise GoldenError(f"golden file {directory / name} is missing; run `optgold generate`") from None
    if sha256(data) != entry["sha256"]:
        raise GoldenError(f"{directory / name}: sha256 does not match the manifest: the file is corrupt or was "
                          "changed; restore it or regenerate with `optgold generate`")
    return decode(data, directory / name)
