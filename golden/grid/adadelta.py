"""The adadelta cases.

Adadelta's step is sqrt(u + eps) / sqrt(v + eps) * g with u of the order of the steps
themselves, so eps sets the scale of every early step: eps = 1e-3 .. 1e-2 makes it
matter throughout. lr != 1 (0.3, 0.5) separates torch from the paper's accumulator of
the applied step; rho away from 0.9 and weight decay of 0.05 .. 0.5 (with maximize)
excite the remaining terms.
"""
from optgold.golden.grid.case import cases

CASES = cases("adadelta", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict()),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(eps=1e-3)),
    ("rho_chained", "rosenbrock_chained", 300, dict(lr=0.5, rho=0.5, eps=1e-4)),
    ("lr_isotropic", "quadratic_isotropic_2d", 100, dict(lr=0.3, eps=1e-2)),
    ("weight_decay_rotated", "quadratic_rotated_10d", 200, dict(eps=1e-3, weight_decay=0.5)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200,
     dict(lr=0.5, eps=1e-3, weight_decay=0.1, maximize=True)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(rho=0.95, eps=1e-3)),
    ("deep", "quadratic_deep_100d", 100, dict(rho=0.8, eps=1e-3, weight_decay=0.05)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=1.0, rho=0.9, eps=1e-3, weight_decay=0.1)
