"""The plain scenario: the implementation is stepped along the case, and nothing happens between steps."""
NAME = "plain"
DESCRIPTION = "stepped along the case, nothing between steps"


def applies(case):
    return None


def before_step(adapter, t, case):
    pass

