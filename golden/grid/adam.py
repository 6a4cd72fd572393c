"""The adam cases."""
from optgold.golden.grid.case import cases

CASES = cases("adam", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01)),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, eps=1e-3)),
    ("betas_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.02, betas=(0.5, 0.9), eps=1e-3)),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=5e-3, betas=(0.9, 0.99), weight_decay=0.1)),
    ("decoupled_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.5, decoupled_weight_decay=True)),
    ("amsgrad_isotropic", "quadratic_isotropic_2d", 200, dict(lr=0.05, betas=(0.9, 0.95), amsgrad=True)),
    ("amsgrad_deep", "quadratic_deep_100d", 100, dict(lr=0.01, eps=1e-3, weight_decay=0.01, amsgrad=True)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3)),
    ("groups_isotropic", "quadratic_isotropic_2d", 200, dict(lr=0.05, betas=(0.9, 0.95)),
     [{"tensors": [0], "hp": dict(amsgrad=True, weight_decay=0.1)},
      {"tensors": [1], "hp": dict(lr=0.02, eps=1e-3)}]),
    ("warm_restarts_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.02, eps=1e-3), [],
     {"scheduler": "cosine_annealing_warm_restarts", "hp": {"T_0": 40, "T_mult": 2, "eta_min": 1e-3}}),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1, amsgrad=True)
CONTRACT_LONG_HP = dict(betas=(0.9, 0.999))  # the step count reaches the update past 2048 steps
