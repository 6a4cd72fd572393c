"""Golden files: deterministic .npz archives plus a manifest of sha256 hashes.

Each reference has one archive holding ``meta.json`` (the cases, as JSON) and one
``.npy`` member per array. Archives are written byte for byte reproducibly (fixed
member order and timestamps) so that regeneration can be proven by hash. Loading
verifies the hash first and never unpickles.

A write never leaves a half-written file under a golden's name, so a check may read
while ``optgold generate`` writes: each file goes to a hidden ``.partial`` file in the
same folder and is renamed into place (os.replace), archives first and the manifest
last. Between the archives' rename and the manifest's, a reader may see a new archive
with the old manifest; ``read`` tells that window from a corrupt file and reads again.

Every error about a golden names the command that rebuilds it: ``rebuild_command``
for the optimizer and scheduler goldens of a folder; the CIFAR goldens pass their
own (golden/cifar/load.py) as ``rebuild``.
"""
import hashlib
import importlib.metadata
import io
import json
import os
import re
import secrets
import shlex
import sys
import time
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np

from optgold.reference.errors import UsageError

FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
PACKAGED_DIR = Path(__file__).parent / "data"
ENV = "OPTGOLD_GOLDEN_DIR"
DISTRIBUTION = "optgold"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_INSTALLED_PARTS = {"site-packages", "dist-packages"}

# A file being written: ".<name>.<16 hex digits>.partial"; readers only open the names the manifest lists.
_PARTIAL = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{16}\.partial")
# A write renames its files within milliseconds; a .partial older than this was left by a writer that was killed.
STALE_SECONDS = 300.0
# How long a reader waits for a write under way to rename its manifest before it reports a mismatch.
READ_ATTEMPTS, FIRST_WAIT, LONGEST_WAIT = 40, 0.002, 0.1  # at most about 3.5 s


class GoldenError(UsageError):
    """A golden file is missing, corrupt, tampered with, or of another format."""


# -- where goldens are read and written ----------------------------------------------------------

def golden_dir(override=None):
    """Where goldens are read from: the argument, $OPTGOLD_GOLDEN_DIR, or the packaged data."""
    return Path(override or os.environ.get(ENV) or PACKAGED_DIR)


def cache_root():
    """optgold's folder in the user cache ($XDG_CACHE_HOME, else ~/.cache): goldens written outside a checkout."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "optgold"


def installed(directory=None):
    """Whether the packaged folder (or ``directory``) lies in an installed package: under site-packages or
    dist-packages, or not writable. Goldens there are restored by reinstalling, never written by generate."""
    path = Path(directory or PACKAGED_DIR).expanduser().resolve()
    if _INSTALLED_PARTS & set(path.parts):
        return True
    while not path.exists() and path != path.parent:
        path = path.parent
    return not _writable(path)


def _writable(path):
    return os.access(path, os.W_OK)


def generate_dir(override=None):
    """Where `optgold generate` writes: the argument, $OPTGOLD_GOLDEN_DIR, the packaged folder of a source
    checkout, else the user cache (an installed package's folder is never written)."""
    if override or os.environ.get(ENV):
        return golden_dir(override)
    return cache_root() / "golden" if installed() else PACKAGED_DIR


def generate_command(*options):
    """``optgold generate`` with these options, quoted for a POSIX shell."""
    return shlex.join(["optgold", "generate", *map(str, options)])


def install_source(direct_url, version):
    """What pip reinstalls this distribution from: where it was installed from (PEP 610's
    direct_url.json, as a dict, or None for an index), else the same version from the index."""
    if not direct_url or not direct_url.get("url"):
        return f"{DISTRIBUTION}=={version}"
    url, vcs = direct_url["url"], direct_url.get("vcs_info")
    if vcs:
        return f"{vcs['vcs']}+{url}" + (f"@{vcs['commit_id']}" if vcs.get("commit_id") else "")
    parsed = urlparse(url)
    return unquote(parsed.path) if parsed.scheme == "file" else url


def _distribution():
    """optgold's install metadata: the one beside the package (in its site-packages), else the first found."""
    site = Path(PACKAGED_DIR).expanduser().resolve().parents[2]  # site/optgold/golden/data
    for dist in importlib.metadata.distributions(name=DISTRIBUTION, path=[str(site)]):
        return dist
    return importlib.metadata.distribution(DISTRIBUTION)


def reinstall_command():
    """The command that restores an installed package's goldens: pip reinstalling optgold, into the
    interpreter running it, from where it came."""
    try:
        dist = _distribution()
        text = dist.read_text("direct_url.json")
        source = install_source(json.loads(text) if text else None, dist.version)
    except (importlib.metadata.PackageNotFoundError, json.JSONDecodeError):
        source = DISTRIBUTION
    return shlex.join([sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps", source])


def same_dir(a, b):
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def rebuild_command(directory):
    """The command that rebuilds the optimizer and scheduler goldens in ``directory``: plain
    `optgold generate` for the packaged folder of a source checkout, a reinstall for an installed
    package's, else generate into the folder."""
    if same_dir(directory, PACKAGED_DIR):
        if installed():
            return reinstall_command()
        if not os.environ.get(ENV) or same_dir(os.environ[ENV], PACKAGED_DIR):
            return generate_command()
    return generate_command("--golden-dir", directory)


# -- archives ------------------------------------------------------------------------------------

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


# -- writing -------------------------------------------------------------------------------------

def _stage(directory, name, data):
    """``data`` in a new .partial file beside ``name``, flushed to disk; its path."""
    path = directory / f".{name}.{secrets.token_hex(8)}.partial"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any file
    try:
        with os.fdopen(descriptor, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _partials(directory, name=None):
    """(path, age in seconds) of each .partial file in ``directory`` (of ``name`` only, if given)."""
    found, now = [], time.time()
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return found
    for entry in entries:
        match = _PARTIAL.fullmatch(entry.name)
        if match and (name is None or match["name"] == name):
            try:
                found.append((Path(entry.path), now - entry.stat().st_mtime))
            except FileNotFoundError:  # renamed into place meanwhile
                pass
    return found


def _sweep(directory):
    """Remove what killed writers left: .partial files too old to belong to a write under way."""
    for path, age in _partials(directory):
        if age > STALE_SECONDS:
            path.unlink(missing_ok=True)


def _sync_dir(directory):
    """Make the renames durable (where the system can open a folder)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write(directory, files, generator_version, merge=False):
    """Write {file name: (meta, arrays)} and a manifest that covers them.

    With ``merge``, the manifest keeps its entries for files not written now. Every file is
    staged first, then renamed into place, the manifest last: at every moment each name holds
    a whole file, and the manifest matches the archives except for the instants between
    their renames and its own, which ``read`` waits out.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _sweep(directory)
    entries = dict(read_manifest(directory)["files"]) if merge and (directory / MANIFEST).exists() else {}
    staged = {}
    try:
        for name, (meta, arrays) in sorted(files.items()):
            data = encode(meta, arrays)
            staged[name] = _stage(directory, name, data)
            entries[name] = {"sha256": sha256(data), "cases": len(meta["cases"])}
        manifest = {"format_version": FORMAT_VERSION, "generator_version": generator_version, "files": entries}
        # staged before any archive is renamed: while it exists, readers know a write is under way
        pending = _stage(directory, MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
        staged[MANIFEST] = pending
        for name, path in staged.items():
            if name != MANIFEST:
                os.replace(path, directory / name)
        os.replace(pending, directory / MANIFEST)
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)  # a file staged but not renamed, after an error
    _sync_dir(directory)
    return manifest


# -- reading -------------------------------------------------------------------------------------

def _checked(manifest, path, rebuild):
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        version = repr(manifest.get("format_version")) if isinstance(manifest, dict) else "? (not a JSON object)"
        raise GoldenError(f"{path}: golden format {version} is not {FORMAT_VERSION}; regenerate with `{rebuild}`")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("sha256"), str) for entry in files.values()):
        raise GoldenError(f"{path}: malformed manifest (each file needs a sha256); restore it or regenerate with "
                          f"`{rebuild}`")
    return manifest


@contextmanager
def _opened_manifest(directory, rebuild):
    """(the manifest, checked; whether the manifest file is still the one read). The file stays open
    meanwhile, so its inode cannot be reused and a replaced manifest is always told apart."""
    path = Path(directory) / MANIFEST
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise GoldenError(f"no golden manifest at {path}; build the goldens with `{rebuild}`") from None
    with f:
        try:
            manifest = json.loads(f.read().decode())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise GoldenError(f"{path}: corrupt manifest ({_one_line(error)}); regenerate with `{rebuild}`") from None
        opened = os.fstat(f.fileno())

        def current():
            try:
                return os.path.samestat(os.stat(path), opened)
            except FileNotFoundError:
                return False

        yield _checked(manifest, path, rebuild), current


def read_manifest(directory, rebuild=None):
    """The manifest of ``directory``, checked; errors name ``rebuild`` (default: rebuild_command)."""
    rebuild = rebuild or rebuild_command(directory)
    with _opened_manifest(directory, rebuild) as (manifest, _):
        return manifest


def _writing(directory):
    """Whether a write is under way in ``directory``: a fresh staged manifest waits to be renamed."""
    return any(age <= STALE_SECONDS for _, age in _partials(directory, MANIFEST))


def read(directory, name, rebuild=None):
    """(meta, arrays) of one golden file, after checking its hash against the manifest.

    A hash mismatch is read again while a write is under way (golden/store.py's module
    docstring) or the manifest was replaced since it was read; it is reported once the
    manifest read is still in place and no write is under way, or after READ_ATTEMPTS.
    Errors name ``rebuild``, the command that rebuilds the file (default: rebuild_command).
    """
    directory = Path(directory)
    rebuild = rebuild or rebuild_command(directory)
    for attempt in range(READ_ATTEMPTS):
        with _opened_manifest(directory, rebuild) as (manifest, current):
            entry = manifest["files"].get(name)
            if entry is None:
                raise GoldenError(f"{directory / MANIFEST} lists no {name}; regenerate with `{rebuild}`")
            try:
                data = (directory / name).read_bytes()
            except FileNotFoundError:
                raise GoldenError(f"golden file {directory / name} is missing; regenerate with `{rebuild}`") from None
            if sha256(data) == entry["sha256"]:
                return decode(data, directory / name, rebuild)
            # in this order: a write that renamed the archive before it was read still has its manifest staged
            writing = _writing(directory)
            if not writing and current():
                break
        if writing:
            time.sleep(min(LONGEST_WAIT, FIRST_WAIT * 2 ** attempt))
    raise GoldenError(f"{directory / name}: sha256 does not match the manifest: the file is corrupt or was "
                      f"changed; restore it or regenerate with `{rebuild}`")
