"""Scenarios (contracts): what happens around the steps of a run. One module per scenario.

A scenario module provides:

    NAME                 how it is named (--scenario NAME; a result's mode reads "replay+NAME")
    DESCRIPTION          one line for `optgold list` and reports
    applies(case)        why the scenario cannot run this case (a skip reason), or None
    before_step(adapter, t, case)   called before step t of the implementation (1-based): what it
                         does counts as part of that step

A scenario whose reference trajectory is the plain one (a resume changes nothing the
algorithm computes) is judged against the plain goldens. SCENARIOS is the registry: a
new contract is one module and one line here.
"""
from optgold.reference.errors import UsageError
from optgold.scenarios import plain, resume

SCENARIOS = {s.NAME: s for s in (plain, resume)}


class UnknownScenario(UsageError, KeyError):
    def __str__(self):
        return f"unknown scenario {self.args[0]!r}; known: {', '.join(sorted(SCENARIOS))}"


def get(name):
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownScenario(name) from None
