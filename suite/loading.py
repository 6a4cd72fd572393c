"""Resolve an implementation given as ``package.module:Attr`` or ``path/to/file.py:Attr``."""
import importlib
import importlib.util
import sys
from pathlib import Path

from optgold.reference.errors import UsageError


class ImplLoadError(UsageError):
    """The IMPL argument names nothing usable; the message says what to fix."""


def load_impl(spec):
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ImplLoadError(f"IMPL {spec!r} must look like package.module:Attr or path/to/file.py:Attr")
    if module_name.endswith(".py"):
        module = _load_file(Path(module_name), spec)
    else:
        from optgold import adapters

        adapters.before_import(module_name)
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ImplLoadError(f"cannot import module {module_name!r} from IMPL {spec!r}: {error}") from None
        except Exception as error:  # the module itself is broken
            raise ImplLoadError(f"importing {module_name!r} raised {type(error).__name__}: {error}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ImplLoadError(f"{module_name!r} has no attribute {attr!r} (IMPL {spec!r})")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ImplLoadError(f"{spec!r} is not an optimizer class or factory: {type(obj).__name__} is not callable")
    return obj


def _load_file(path, spec):
    return load_module_file(path, f"IMPL {spec!r}")


def load_module_file(path, what):
    """Import the Python file ``path`` as a module of its own; ``what`` names it in errors."""
    path = Path(path)
    if not path.is_file():
        raise ImplLoadError(f"no such file {str(path)!r} ({what})")
    name = f"optgold_impl_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]  # loaded once: classes keep one identity
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise ImplLoadError(f"loading {str(path)!r} raised {type(error).__name__}: {error}") from None
    return module
