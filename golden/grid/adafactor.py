"""The adafactor cases.

Both paths run in every case but the matrices ones: a factored tensor (2 or 3 dims) and a
vector. row_var and col_var are compared on quadratic_matrices and rosenbrock_matrices,
where every tensor is factored (a state is compared where every tensor has it). lr above
1e-2 makes min(lr, 1/sqrt(t)) switch branch; eps_isotropic drives gradients and params
to zero so that eps1 (both clamps) and eps2 bite; deep's eps2 = 0.4 exceeds RMS(p) late;
d = 1 clips in most cases, d = 1.2 and 2 less often; maximize with weight decay runs on -f.
"""
from optgold.golden.grid.case import cases

CASES = cases("adafactor", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict()),
    ("large_lr_matrices", "quadratic_matrices", 200, dict(lr=0.3)),
    ("eps_isotropic", "quadratic_isotropic_2d", 200, dict(lr=0.1, eps=(1e-2, 0.05))),
    ("clip_rosenbrock", "rosenbrock_matrices", 300, dict(lr=0.05, d=2.0, beta2_decay=-0.5)),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=0.05, weight_decay=0.2)),
    ("deep", "quadratic_deep_100d", 100, dict(lr=0.1, eps=(None, 0.4), beta2_decay=-0.6)),
    ("maximize_decay_matrices", "quadratic_matrices", 200, dict(lr=0.02, weight_decay=0.5, maximize=True)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.05, eps=(0.1, 1e-3), d=1.2)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.05, weight_decay=0.1)
