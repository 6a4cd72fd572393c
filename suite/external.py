"""References from outside the package: ``--reference path/to/my_ref.py``.

Someone inventing an optimizer writes its reference as a plain-Python module following
the reference protocol (reference/__init__.py), with a ``GRID`` of its cases, and keeps
it in their own repository. Its goldens live in a folder of theirs (``--golden-dir``):
``optgold generate --reference my_ref.py --golden-dir DIR`` makes and certifies them,
``optgold check IMPL --reference my_ref.py --golden-dir DIR`` and the pytest plugin use them.
"""
from pathlib import Path

from optgold import reference
from optgold.loading import load_module_file
from optgold.reference.capabilities import Capabilities
from optgold.reference.errors import UsageError

PROTOCOL = {
    "DEFAULTS": "a dict of the hyperparameters and their defaults",
    "VARIANTS": 'a dict of named variants, "torch" (the algorithm itself) first',
    "CAPABILITIES": "a reference.capabilities.Capabilities",
    "init_state": "init_state(size, hp, zero=0.0) -> state",
    "step": "step(param, grad, state, *, <hyperparameters>, variant='torch')",
    "GRID": "a list of case rows: (id, problem, steps, {hyperparameter overrides})",
}


def is_path(text):
    return str(text).endswith(".py")


def resolve(text, golden_dir=None):
    """The reference name ``text`` means: a known name as it is, or a module file loaded, checked
    against the protocol and added under its file's stem. A file needs a golden folder of its own."""
    if not is_path(text):
        return text
    path = Path(text)
    if golden_dir is None:
        raise UsageError(f"--reference {text}: a reference from outside optgold needs --golden-dir DIR, the folder "
                         f"its goldens are written to and read from (`optgold generate --reference {text} "
                         "--golden-dir DIR` makes them)")
    module = load_module_file(path, f"--reference {text}")
    problems = [f"{name} ({what})" for name, what in PROTOCOL.items() if not _fits(module, name)]
    if problems:
        raise UsageError(f"{text} is not an optgold reference: it lacks or misdeclares {'; '.join(problems)}")
    reference.add(module, path.stem)
    return path.stem


def _fits(module, name):
    value = getattr(module, name, None)
    if name in ("init_state", "step"):
        return callable(value)
    if name == "CAPABILITIES":
        return isinstance(value, Capabilities)
    if name == "VARIANTS":
        return isinstance(value, dict) and next(iter(value), None) == "torch"
    if name == "GRID":
        return isinstance(value, (list, tuple)) and len(value) > 0
    return isinstance(value, dict)
