"""The nadam cases.

momentum_decay large enough (0.02 to 0.1) that the schedule mu_t sweeps from beta1/2
towards beta1 within the run, eps of 1e-3 where sqrt(v_hat) gets small, weight decay
coupled and decoupled, maximize with each kind of decay.
"""
from optgold.golden.grid.case import cases

CASES = cases("nadam", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01)),
    ("momentum_decay_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, eps=1e-3, momentum_decay=0.1)),
    ("betas_isotropic", "quadratic_isotropic_2d", 200, dict(lr=0.05, betas=(0.95, 0.9), momentum_decay=0.02)),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=5e-3, betas=(0.9, 0.99), weight_decay=0.1)),
    ("decoupled_rotated", "quadratic_rotated_10d", 200,
     dict(lr=0.01, weight_decay=0.5, decoupled_weight_decay=True, momentum_decay=0.05)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("maximize_decoupled_deep", "quadratic_deep_100d", 100,
     dict(lr=0.01, eps=1e-3, weight_decay=0.2, decoupled_weight_decay=True, maximize=True, momentum_decay=0.05)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1)
CONTRACT_LONG_HP = dict(betas=(0.9, 0.999))  # the step count reaches the update past 2048 steps
