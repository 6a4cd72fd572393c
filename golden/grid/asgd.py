"""The asgd cases.

ASGD's eta only decays where lambd * lr * t reaches order one, so lambd is large
(0.5 .. 5) and alpha matters; the decay term p * (1 - lambd * eta) then matters too.
t0 of 20 .. 150 starts the averaging within the run (torch's default 1e6 never does),
so mu and ax are compared while they average; ax depends on t0 and nothing else does.
"""
from optgold.golden.grid.case import cases

CASES = cases("asgd", [
    ("average_rotated", "quadratic_rotated_10d", 200, dict(lr=1e-3, lambd=5.0, t0=50.0)),
    ("schedule_isotropic", "quadratic_isotropic_2d", 100, dict(lr=0.1, lambd=0.5, alpha=0.5, t0=20.0)),
    ("alpha_rosenbrock", "rosenbrock_2d", 300, dict(lr=1e-3, lambd=1.0, alpha=1.0, t0=100.0)),
    ("decay_chained", "rosenbrock_chained", 300, dict(lr=5e-4, lambd=2.0, t0=150.0, weight_decay=0.1)),
    ("weight_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=1e-3, lambd=2.0, t0=30.0, weight_decay=0.5)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200,
     dict(lr=1e-3, lambd=2.0, t0=30.0, weight_decay=0.1, maximize=True)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=1e-3, lambd=3.0, alpha=0.9, t0=50.0)),
    ("deep", "quadratic_deep_100d", 100, dict(lr=0.02, lambd=0.5, t0=20.0, weight_decay=0.01)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=5e-3, lambd=1e-3, t0=10.0, weight_decay=0.1)
