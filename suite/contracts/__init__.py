"""Contracts: what happens around the steps of a run, judged against the reference run under the same events.

Each contract is one module. Its cases are rows of the formula check's table (and pytest
items), named ``<contract>/<row>``, with a ``contract`` field in the JSON. A module provides:

    NAME                 as --contracts names it
    DESCRIPTION          one line for `optgold list` and --help
    rows(module)         its cases for the reference ``module``: (row, golden, events, setting) tuples.
                         ``golden`` names a contract golden of the reference (golden/contracts.py);
                         ``events`` (reference/contracts.py) are added to the golden's own, and must
                         leave its trajectory as it is (a restart); ``setting`` is the module's own
    adapter_options(case, dtype)  keywords the adapter is built with (optional)
    default_dtype(case, dtype)    torch's default dtype while the implementation runs (optional)
    tensor_dtypes(case, dtype)    the dtype of each tensor, where they differ from the check's (optional)
    MODES                         the modes its cases run in, of those the check runs (optional; all)

What the events say (a restart, a gradient left None, a zero gradient, an overflowed
step, a group added) the optimizer kind carries out through the adapter; the contract
module says only what its case sets up. Where a contract applies is declared once, in
reference/capabilities.py (``contract_reason``). CONTRACTS is the registry: a new
contract is one module, one line here, and its name in capabilities.CONTRACTS.
"""
from dataclasses import replace

from optgold.contracts import (amp, complex_view, empty_tensors, group_added, low_precision, missing_grad,
                               mixed_dtypes, resume, tensor_hp)
from optgold.reference import capabilities
from optgold.reference.errors import UsageError

CONTRACTS = {c.NAME: c for c in (resume, missing_grad, empty_tensors, tensor_hp, complex_view, amp, group_added,
                                 mixed_dtypes, low_precision)}
ALL, NONE = "all", "none"


class UnknownContract(UsageError, KeyError):
    def __str__(self):
        return f"unknown contract {self.args[0]!r}; known: {', '.join(CONTRACTS)} (or all, none)"


def get(name):
    try:
        return CONTRACTS[name]
    except KeyError:
        raise UnknownContract(name) from None


def selected(choice):
    """The contract names a --contracts value selects: "all", "none", or names (a list, or one comma-separated text)."""
    if choice in (None, ALL):
        return tuple(CONTRACTS)
    if choice == NONE:
        return ()
    names = choice.split(",") if isinstance(choice, str) else list(choice)
    names = [n.strip() for n in names]
    for name in names:
        get(name)
    if not names:
        raise UsageError("--contracts: name one contract or more, or all, or none")
    return tuple(dict.fromkeys(names))


def cases(ref_name, choice, goldens):
    """The contract cases of reference ``ref_name`` the choice selects, from its contract ``goldens``
    (golden.load.load_contract_goldens): GoldenCases with ``contract`` and ``setting`` set. A contract
    that does not apply to the reference has no cases (`optgold list` shows why)."""
    from optgold import reference

    module = reference.get(ref_name)
    by_id = {g.id: g for g in goldens}
    out = []
    for name in selected(choice):
        if capabilities.contract_reason(module, name) is not None:
            continue
        contract = CONTRACTS[name]
        for row, golden_id, events, setting in contract.rows(module):
            golden = by_id.get(golden_id)
            if golden is None:
                continue  # a reference from outside optgold may ship only some contract goldens
            merged = {**(golden.events or {}), **events}
            case = replace(golden, id=f"{name}/{row}", contract=name, events=merged or None, setting=dict(setting))
            out.append(truncated(case, setting.get("steps")))
    return out


def truncated(case, steps):
    """The case cut to its first ``steps`` steps (None: as it is)."""
    if steps is None or steps >= case.steps:
        return case
    return replace(case, steps=steps, params=case.params[:steps + 1], grads=case.grads[:steps],
                   state={k: v[:steps] for k, v in case.state.items()},
                   drift={k: v[:steps + 1] for k, v in case.drift.items()},
                   state_drift={d: {k: v[:steps] for k, v in s.items()} for d, s in case.state_drift.items()})


def option(case, hook, dtype, default):
    """What the case's contract module says through ``hook`` (adapter_options, default_dtype), or ``default``."""
    module = CONTRACTS.get(case.contract) if case.contract else None
    function = getattr(module, hook, None)
    return function(case, dtype) if function else default
