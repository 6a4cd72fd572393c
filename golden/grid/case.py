"""A golden case: problem, hyperparameters, steps; and the helper that fills in defaults."""
from dataclasses import dataclass, field

import reference


@dataclass(frozen=True)
class Case:
    id: str
    problem: str
    steps: int
    hp: dict = field(hash=False)
    negate: bool = False


def cases(ref_name, rows):
    """Cases from (id, problem, steps, hyperparameter overrides) rows; maximize cases run on -f."""
    defaults = reference.get(ref_name).DEFAULTS
    out = []
    for case_id, problem, steps, overrides in rows:
        unknown = set(overrides) - set(defaults)
        assert not unknown, f"{ref_name}/{case_id}: not a hyperparameter: {unknown}"
        hp = {**defaults, **overrides}
        out.append(Case(case_id, problem, steps, hp, negate=bool(hp.get("maximize"))))
    return out
