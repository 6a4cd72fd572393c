"""A golden case: problem, hyperparameters, steps; and the helper that fills in defaults."""
from dataclasses import dataclass, field

from optgold import reference


@dataclass(frozen=True)
class Case:
    id: str
    problem: str
    steps: int
    hp: dict = field(hash=False)
    negate: bool = False
    groups: tuple = ()  # ({"tensors": [...], "hp": {overrides}}, ...): torch param groups; () is one group
    schedule: dict = field(default=None, hash=False)  # {"scheduler": name, "hp": {...}}: an LR scheduler each step
    events: dict = field(default=None, hash=False)  # reference.contracts events, their JSON form; None: a plain run


def cases(ref_name, rows):
    """Cases from (id, problem, steps, hyperparameter overrides[, param groups[, schedule]]) rows.

    Maximize cases run on -f.
    """
    defaults = reference.get(ref_name).DEFAULTS
    out = []
    for case_id, problem, steps, overrides, *extra in rows:
        groups = tuple(extra[0]) if extra else ()
        schedule = extra[1] if len(extra) > 1 else None
        for hp_set in [overrides] + [g["hp"] for g in groups]:
            unknown = set(hp_set) - set(defaults)
            assert not unknown, f"{ref_name}/{case_id}: not a hyperparameter: {unknown}"
        hp = {**defaults, **overrides}
        out.append(Case(case_id, problem, steps, hp, negate=bool(hp.get("maximize")), groups=groups,
                        schedule=schedule))
    return out
