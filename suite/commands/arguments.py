"""Pieces several commands share: argument groups, KEY=VALUE parsing, and optional dependencies."""
import json

from optgold.reference.errors import UsageError


def add_problem_arguments(p):
    """--problem and --cifar-dir (`optgold check`, `optgold generate`)."""
    p.add_argument("--problem", choices=("quadratics", "cifar"), default="quadratics",
                   help="quadratics: the quadratic and Rosenbrock cases (default); cifar: the small CIFAR network "
                   "run, in replay form (its goldens live in DIR/cifar, or DIR/cifar10 for real CIFAR-10)")
    p.add_argument("--cifar-dir", metavar="DIR", help="CIFAR-10 binary folder (data_batch_*.bin, test_batch.bin) "
                   "for --problem cifar (default: $OPTGOLD_CIFAR_DIR, else a generated synthetic set)")


def parse_impl_arg(text):
    """KEY=VALUE; the value is read as JSON (true, 3, 1e-3, null), else kept as a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise UsageError(f"--impl-arg {text!r} must look like KEY=VALUE, e.g. fused=true")
    python_words = {"True": True, "False": False, "None": None}
    if value in python_words:
        return key, python_words[value]
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def require_pytest_benchmark(command):
    """Results are kept in pytest-benchmark's format, with its machine info: say so if it is missing."""
    try:
        import pytest_benchmark  # noqa: F401
    except ImportError:
        raise UsageError(f"optgold {command} needs pytest-benchmark: pip install 'pytest-benchmark>=4'") from None
