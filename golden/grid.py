"""The case grid: for each reference, the cases that make every term matter.

Choices that keep every hyperparameter above float32 noise: eps of 1e-3 where
sqrt(v_hat) gets small, weight decay of 0.1 and more, dampening with momentum,
maximize with weight decay (a sign bug on lr only shows there), amsgrad with
gradients that fall faster than beta2 forgets, and runs of a few hundred steps.
Maximize cases run on -f, so that they converge like their minimize twins.
"""
from dataclasses import dataclass, field

import reference


@dataclass(frozen=True)
class Case:
    id: str
    problem: str
    steps: int
    hp: dict = field(hash=False)
    negate: bool = False


def _cases(ref_name, rows):
    defaults = reference.get(ref_name).DEFAULTS
    cases = []
    for case_id, problem, steps, overrides in rows:
        unknown = set(overrides) - set(defaults)
        assert not unknown, f"{ref_name}/{case_id}: not a hyperparameter: {unknown}"
        hp = {**defaults, **overrides}
        cases.append(Case(case_id, problem, steps, hp, negate=bool(hp.get("maximize"))))
    return cases


SGD = _cases("sgd", [
    ("plain_isotropic", "quadratic_isotropic_2d", 100, dict(lr=0.05)),
    ("momentum_rotated", "quadratic_rotated_10d", 200, dict(lr=1e-3, momentum=0.9)),
    ("dampening_rosenbrock", "rosenbrock_2d", 300, dict(lr=5e-4, momentum=0.9, dampening=0.5)),
    ("nesterov_chained", "rosenbrock_chained", 300, dict(lr=2e-4, momentum=0.9, nesterov=True)),
    ("weight_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=1e-3, momentum=0.9, weight_decay=0.5)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200,
     dict(lr=1e-3, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("maximize_nesterov_isotropic", "quadratic_isotropic_2d", 100,
     dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.05, maximize=True)),
    ("noisy_dampening", "quadratic_rotated_10d_noisy", 200,
     dict(lr=1e-3, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("nesterov_deep", "quadratic_deep_100d", 100, dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01)),
])

ADAM = _cases("adam", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01)),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, eps=1e-3)),
    ("betas_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.02, betas=(0.5, 0.9), eps=1e-3)),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=5e-3, betas=(0.9, 0.99), weight_decay=0.1)),
    ("decoupled_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.5, decoupled_weight_decay=True)),
    ("amsgrad_isotropic", "quadratic_isotropic_2d", 200, dict(lr=0.05, betas=(0.9, 0.95), amsgrad=True)),
    ("amsgrad_deep", "quadratic_deep_100d", 100, dict(lr=0.01, eps=1e-3, weight_decay=0.01, amsgrad=True)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3)),
])

ADAMW = _cases("adamw", [
    ("decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1)),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, eps=1e-3, weight_decay=0.2)),
    ("chained", "rosenbrock_chained", 300, dict(lr=5e-3, betas=(0.9, 0.99), weight_decay=0.1)),
    ("amsgrad_isotropic", "quadratic_isotropic_2d", 200,
     dict(lr=0.05, betas=(0.9, 0.95), amsgrad=True, weight_decay=0.1)),
    ("maximize_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, eps=1e-3, weight_decay=0.05)),
    ("deep", "quadratic_deep_100d", 100, dict(lr=0.01, weight_decay=0.1)),
])

GRID = {"sgd": SGD, "adam": ADAM, "adamw": ADAMW}
