"""The resume scenario: halfway through, the implementation is rebuilt from its own state_dict.

A job restarted from a checkpoint builds fresh parameters and a fresh optimizer, loads
the saved state, and carries on; the algorithm computes exactly what it would have
without the restart, so the plain golden judges it. What breaks here ships in real
optimizers: state that load_state_dict does not restore (a step count kept outside
``state``, a buffer cast to the wrong dtype or device, a tensor ``step`` turned into a
number), or state still aliasing the old parameters.
"""
NAME = "resume"
DESCRIPTION = "rebuilt from its own state_dict halfway through, as a job resumed from a checkpoint"


def applies(case):
    if case.steps < 2:
        return "the case has fewer than two steps to resume between"
    return None


def resume_step(case):
    """The step the restart comes before: halfway."""
    return case.steps // 2 + 1


def before_step(adapter, t, case):
    if t == resume_step(case):
        adapter.restart()
