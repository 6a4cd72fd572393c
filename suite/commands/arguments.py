"""Pieces several commands share: argument groups, KEY=VALUE parsing, and optional dependencies."""
import ast
import difflib
import json
import shlex

from optgold.reference.errors import UsageError


def add_problem_arguments(p):
    """--problem and --cifar-dir (`optgold check`, `optgold generate`)."""
    p.add_argument("--problem", choices=("quadratics", "cifar"), default="quadratics",
                   help="quadratics: the quadratic and Rosenbrock cases (default); cifar: the small CIFAR network "
                   "run, in replay form (its goldens live in DIR/cifar, or DIR/cifar10 for real CIFAR-10)")
    p.add_argument("--cifar-dir", metavar="DIR", help="CIFAR-10 binary folder (data_batch_*.bin, test_batch.bin) "
                   "for --problem cifar (default: $OPTGOLD_CIFAR_DIR, else a generated synthetic set)")


PYTHON_WORDS = {"True": True, "False": False, "None": None}


def parse_impl_arg(text, flag="--impl-arg"):
    """KEY=VALUE, the value a JSON literal: true, 3, 1e-3, null, "text", [1, 2].

    A string must be quoted ("x" or 'x'). Unquoted text that is not JSON is refused, not
    read as a string: a typo such as ``fused=flase`` would otherwise pass the truthy
    "flase" and the run would go on with the wrong flag. Python's True, False and None
    are accepted as well.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise UsageError(f"{flag} {text!r} must look like KEY=VALUE, e.g. fused=true")
    if value in PYTHON_WORDS:
        return key, PYTHON_WORDS[value]
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return key, value[1:-1]
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        raise UsageError(_unquoted_message(flag, key, value)) from None


def _unquoted_message(flag, key, value):
    """One line: what was wrong, the JSON it probably meant (from a Python literal or a typo), how to quote a string."""
    meant = _json_meant(value)
    guess = f"did you mean {flag} {shlex.quote(f'{key}={meant}')}? " if meant is not None else ""
    quoted = shlex.quote(f"{key}={json.dumps(value)}")
    return (f"{flag} {key}={value}: {value!r} is not a JSON value (true, 3, 1e-3, null, [1, 2]); {guess}"
            f"a string must be quoted: {flag} {quoted}")


def _json_meant(value):
    """The JSON for a Python literal such as (0.9, 0.99), or the JSON word nearest a typo; None if neither."""
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        literal = None
    else:
        if not isinstance(literal, str):
            try:
                return json.dumps(literal)
            except (TypeError, ValueError):
                pass
    near = difflib.get_close_matches(value.lower(), ("true", "false", "null"), n=1, cutoff=0.6)
    return near[0] if near else None


def require_pytest_benchmark(command):
    """Results are kept in pytest-benchmark's format, with its machine info: say so if it is missing."""
    try:
        import pytest_benchmark  # noqa: F401
    except ImportError:
        raise UsageError(f"optgold {command} needs pytest-benchmark: pip install 'pytest-benchmark>=4'") from None
