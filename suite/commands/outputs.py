"""Paths a command will write, checked before anything runs: a run of minutes must not end in
"cannot write" for a folder that was never there."""
import os
from pathlib import Path

from optgold.reference.errors import UsageError


def check_output_path(path, option):
    """UsageError (one line) unless ``path`` can be written: its folder exists and is writable,
    and it is not itself a folder."""
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file path")
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"{option} {path}: cannot be written here (permission)")
