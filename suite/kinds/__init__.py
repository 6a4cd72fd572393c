"""Kinds of check: what is checked, and where its cases come from. One module per kind.

Each kind module provides (optgold.check drives them all through one ``check_case``):

    NAME                        "optimizer", "scheduler", "averaging", "network"
    TIMEOUT_PER_STEP            the check's timeout applies to each step, not the whole case
    TIMEOUT, BUDGET             default seconds per case (or step), and for a whole check
    MODES                       every mode the kind has
    references()                {reference name: module} of what the kind checks
    cases(ref_name, options)    its golden cases (each with .id and .reference)
    modes(case, options)        the modes one case runs in, in order
    not_applicable(case, mode, options)  why a mode cannot judge this case (a skip reason), or None
    CONTRACTS                   the dtypes its cases include contract cases (optgold.contracts) in; () where absent
    DTYPES                      the dtypes it checks; ("float64", "float32") where absent
    start(factory, case, mode, options, earlier) -> run (optgold.kinds.base.Run)
    report_extra(options)       fields the kind adds to the JSON report
    listing()                   its `optgold list` table
    torch_implementations(ref_name)  [(label, factory, impl_args)]: torch's own, for timing and calibration
    GRID_DTYPES                 the dtypes the grid benchmark times it in

KINDS is the registry, iterated by the CLI, `optgold list`, the pytest plugin and the
grid benchmark. A new kind is one module and one line here.
"""
from optgold.kinds import averaging, network, optimizer, scheduler
from optgold import reference

KINDS = {k.NAME: k for k in (optimizer, scheduler, averaging, network)}
DEFAULT = optimizer  # quadratic and Rosenbrock grids; `--problem cifar` selects the network kind


def kind_of(ref_name, problem=None):
    """The kind that checks ``ref_name`` (``problem="cifar"``: the network run)."""
    if problem == "cifar":
        return network
    for kind in KINDS.values():
        if kind is not network and ref_name in kind.references():
            return kind
    raise UnknownReference(ref_name)


class UnknownReference(reference.UnknownReference):
    """A name no kind checks; the message lists every kind's references."""

    def __str__(self):
        return f"unknown reference {self.args[0]!r}; {known_references()}"


def known_references():
    """One line naming every reference by kind, for error messages."""
    return "; ".join(f"{name}: {', '.join(sorted(kind.references()))}" for name, kind in KINDS.items()
                     if kind is not network)
