"""Golden files: deterministic .npz archives plus a manifest of sha256 hashes.

Each reference has one archive holding ``meta.json`` (the cases, as JSON) and one
``.npy`` member per array. Archives are written byte for byte reproducibly (fixed
member order and timestamps) so that regeneration can be proven by hash. Loading
verifies the hash first and never unpickles.

Every error about a golden names the command that rebuilds it: ``rebuild_command``
for the optimizer and scheduler goldens of a folder; the CIFAR goldens pass their
own (golden/cifar/load.py) as ``rebuild``.
"""
import hashlib
import io
import json
import os
import shlex
import zipfile
import zlib
from pathlib import Path

import numpy as np

from optgold.reference.errors import UsageError

FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
PACKAGED_DIR = Path(__file__).parent / "data"
_EPOCH = (1980, 1, 1, 0, 0, 0)


class GoldenError(UsageError):
    """A golden file is missing, corrupt, tampered with, or of another format."""


def golden_dir(override=None):
    """Where goldens are read from: the argument, $OPTGOLD_GOLDEN_DIR, or the packaged data."""
    return Path(override or os.environ.get("OPTGOLD_GOLDEN_DIR") or PACKAGED_DIR)


def generate_command(*options):
    """``optgold generate`` with these options, quoted for a POSIX shell."""
    return shlex.join(["optgold", "generate", *map(str, options)])


def same_dir(a, b):
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def rebuild_command(directory):
    """The command that rebuilds the optimizer and scheduler goldens in ``directory``."""
    return generate_command() if same_dir(directory, PACKAGED_DIR) else generate_command("--golden-dir", directory)


def _one_line(error):
    return " ".join(str(error).split())


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


def decode(data, label, rebuild):
    """(meta, arrays) of an archive's bytes; ``rebuild`` is the command named if they are unreadable."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(archive["meta.json"])
            arrays = {name: archive[name] for name in archive.files if name != "meta.json"}  # npz strips .npy
    except (ValueError, KeyError, OSError, EOFError, NotImplementedError, zipfile.BadZipFile, zlib.error) as error:
        raise GoldenError(f"{label}: unreadable golden archive ({_one_line(error)}); regenerate with "
                          f"`{rebuild}`") from None
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


def read_manifest(directory, rebuild=None):
    """The manifest of ``directory``, checked; errors name ``rebuild`` (default: rebuild_command)."""
    path = Path(directory) / MANIFEST
    rebuild = rebuild or rebuild_command(directory)
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise GoldenError(f"no golden manifest at {path}; build the goldens with `{rebuild}`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GoldenError(f"{path}: corrupt manifest ({_one_line(error)}); regenerate with `{rebuild}`") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        version = repr(manifest.get("format_version")) if isinstance(manifest, dict) else "? (not a JSON object)"
        raise GoldenError(f"{path}: golden format {version} is not {FORMAT_VERSION}; regenerate with `{rebuild}`")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("sha256"), str) for entry in files.values()):
        raise GoldenError(f"{path}: malformed manifest (each file needs a sha256); restore it or regenerate with "
                          f"`{rebuild}`")
    return manifest


def read(directory, name, rebuild=None):
    """(meta, arrays) of one golden file, after checking its hash against the manifest.

    Errors name ``rebuild``, the command that rebuilds the file (default: rebuild_command).
    """
    directory = Path(directory)
    rebuild = rebuild or rebuild_command(directory)
    entry = read_manifest(directory, rebuild)["files"].get(name)
    if entry is None:
        raise GoldenError(f"{directory / MANIFEST} lists no {name}; regenerate with `{rebuild}`")
    try:
        data = (directory / name).read_bytes()
    except FileNotFoundError:
        raise GoldenError(f"golden file {directory / name} is missing; regenerate with `{rebuild}`") from None
    if sha256(data) != entry["sha256"]:
        raise GoldenError(f"{directory / name}: sha256 does not match the manifest: the file is corrupt or was "
                          f"changed; restore it or regenerate with `{rebuild}`")
    return decode(data, directory / name, rebuild)
