"""Which hyperparameters an implementation is constructed with, and whether it kept them.

A case states every hyperparameter of its reference (torch.optim's names). The
implementation is given each one its constructor accepts, so that an implementation
whose own default differs from torch's (a library LAMB with weight_decay=0.01) runs the
case's value and not its own:

    accepted(factory)   the keywords ``factory(params, **kw)`` takes, read from its signature
                        (None: it takes any keyword: ``**kwargs``, or an unreadable signature)
    construction_kwargs every accepted case hyperparameter, then the user's fixed extras;
                        raises Skip where a hyperparameter it does not take matters to the case
    mismatches          the case hyperparameters the built optimizer's param groups hold with
                        another value: a configuration mismatch, not a divergence
    describe            "lr=0.001, betas=(0.9, 0.999), ..." for a failure message
"""
import functools
import inspect
from collections.abc import Mapping

import numpy as np
import torch

_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class Skip(NotImplementedError):
    """A config the implementation cannot take; the message is the reason.

    A NotImplementedError, as an implementation's own refusal is, so that a caller that
    already skips on NotImplementedError skips on this too.
    """


def accepted(factory):
    """The keyword names ``factory`` accepts, or None where it accepts any.

    ``factory`` is a class (its ``__init__``/``__new__``), a function, a
    ``functools.partial`` or a callable object (its ``__call__``). ``**kwargs`` in the
    signature, or a signature that cannot be read (builtins, C extensions), means any.
    Positional-only parameters cannot be passed by name and are not counted.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    names = set()
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind in _KEYWORD:
            names.add(parameter.name)
    return frozenset(names)


def construction_kwargs(factory, case_hp, defaults, impl_args=None, groups=()):
    """The keywords to construct the implementation with: ``factory(params, **kwargs)``.

    Every case hyperparameter ``factory`` accepts (see ``accepted``), then ``impl_args``
    (the user's fixed extras, e.g. fused=True), which are always passed and override.
    A hyperparameter it does not accept is omitted; where the case's value of it (or a
    per-group override's, from ``groups``: ({"tensors": [...], "hp": {...}}, ...))
    differs from torch's default in ``defaults``, the case cannot run as stated and
    ``Skip`` is raised, naming the hyperparameter, the value and the default.
    """
    impl_args = dict(impl_args or {})
    names = accepted(factory)
    kwargs, missing = {}, []
    for key, value in case_hp.items():
        if names is None or key in names or key in impl_args:
            kwargs[key] = value
            continue
        needs = [("this case", value)] + [(f"param group {i} of this case", g["hp"][key])
                                           for i, g in enumerate(groups) if key in g.get("hp", {})]
        for who, wanted in needs:
            if key not in defaults:
                missing.append(f"the implementation takes no `{key}`, and {who} needs {key}={_text(wanted)} "
                               f"(torch has no default for it)")
                break
            if not same(wanted, defaults[key]):
                missing.append(f"the implementation takes no `{key}`, and {who} needs {key}={_text(wanted)} "
                               f"(torch's default {_text(defaults[key])})")
                break
    if missing:
        raise Skip("; ".join(missing))
    return {**kwargs, **impl_args}


def same(stored, expected):
    """Whether a value held by the optimizer is the value the case set.

    Tuples and lists compare elementwise, numbers and bools by value (exactly), and an
    expected None matches anything: None asks the implementation to choose (torch's
    LBFGS stores max_eval=None as max_iter * 5 // 4). A stored tensor or numpy value
    compares with the expected value rounded to its own dtype, since that rounding is
    the value passed as that tensor (a float32 tensor lr holds 0.001 as 0.0010000000475).
    """
    if expected is None:
        return True
    if isinstance(stored, torch.Tensor):
        try:
            expected = torch.as_tensor(expected, dtype=stored.dtype).tolist()
        except (TypeError, ValueError, RuntimeError):
            return False
        stored = stored.tolist()
    elif isinstance(stored, (np.ndarray, np.generic)):
        try:
            expected = np.asarray(expected, dtype=stored.dtype).tolist()
        except (TypeError, ValueError):
            return False
        stored = stored.tolist()
    if isinstance(expected, (tuple, list)):
        if not isinstance(stored, (tuple, list)) or len(stored) != len(expected):
            return False
        return all(same(s, e) for s, e in zip(stored, expected))
    if isinstance(stored, (tuple, list)):
        return False
    try:
        return bool(stored == expected)
    except Exception:  # an exotic stored object that cannot compare: not the case's value
        return False


def mismatches(optimizer, case_hp, groups=()):
    """How the built optimizer's param groups disagree with the case: readable lines, [] if none.

    Group i is expected to hold ``case_hp`` updated by ``groups[i]["hp"]`` (no
    ``groups``: every group holds ``case_hp``). A key a group does not hold is not a
    mismatch (the implementation may store it under another name); one held with
    another value is ("param group 0 holds weight_decay=0.01, the case sets 0.0").
    ``optimizer`` is the built object, whose ``param_groups`` (a list of dicts) are read,
    or such a list itself (a snapshot taken at construction). An object without
    ``param_groups`` has nothing to compare. Read the groups right after construction,
    before a scheduler rewrites lr.

    ``case_hp`` is the case's own values: a user's impl_args that override one of them
    are reported too, since the case then does not run as stated.
    """
    held = optimizer if isinstance(optimizer, (list, tuple)) else getattr(optimizer, "param_groups", None)
    if not isinstance(held, (list, tuple)):
        return []
    if groups and len(held) != len(groups):
        return [f"the optimizer holds {len(held)} param group{'s' if len(held) != 1 else ''}, "
                f"the case has {len(groups)}"]
    found = []
    for i, group in enumerate(held):
        if not isinstance(group, Mapping):
            continue
        overrides = groups[i].get("hp", {}) if groups else {}
        for key, wanted in {**case_hp, **overrides}.items():
            if key in group and not same(group[key], wanted):
                where = " for that group" if key in overrides else ""
                found.append(f"param group {i} holds {key}={_text(group[key])}, the case sets {_text(wanted)}{where}")
    return found


def describe(hp, groups=()):
    """One short line: "lr=0.001, betas=(0.9, 0.999), weight_decay=0.0", in ``hp``'s order;
    per-group overrides follow as "; param group 1: lr=0.01"."""
    parts = [", ".join(f"{k}={_text(v)}" for k, v in hp.items())]
    parts += [f"param group {i}: " + ", ".join(f"{k}={_text(v)}" for k, v in g["hp"].items())
              for i, g in enumerate(groups) if g.get("hp")]
    return "; ".join(parts)


def _text(value):
    """A value as it would be typed: 0.001, (0.9, 0.999), True, None, 'strong_wolfe'."""
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_text(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
    if isinstance(value, functools.partial):
        return f"partial({_text(value.func)})"
    if callable(value) and hasattr(value, "__qualname__"):
        return value.__qualname__
    return repr(value)
