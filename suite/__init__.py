"""optgold's harness: load an implementation, run it on golden cases, judge and report."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("optgold")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
