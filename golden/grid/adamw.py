"""The adamw cases."""
from optgold.golden.grid.case import cases

CASES = cases("adamw", [
    ("decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1)),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, eps=1e-3, weight_decay=0.2)),
    ("chained", "rosenbrock_chained", 300, dict(lr=5e-3, betas=(0.9, 0.99), weight_decay=0.1)),
    ("amsgrad_isotropic", "quadratic_isotropic_2d", 200,
     dict(lr=0.05, betas=(0.9, 0.95), amsgrad=True, weight_decay=0.1)),
    ("maximize_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, eps=1e-3, weight_decay=0.05)),
    ("deep", "quadratic_deep_100d", 100, dict(lr=0.01, weight_decay=0.1)),
    ("groups_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1),
     [{"tensors": [0], "hp": dict(amsgrad=True, betas=(0.9, 0.95))},
      {"tensors": [1], "hp": dict(lr=0.005, weight_decay=0.3)}]),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1, amsgrad=True)
CONTRACT_LONG_HP = dict(betas=(0.9, 0.999))  # the step count reaches the update past 2048 steps
