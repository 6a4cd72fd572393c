"""The adamax cases.

eps of 1e-2 and more where |g| gets small (u_t never falls below eps, and a Keras-style
eps after the max shows), beta2 of 0.9 so that u_t forgets its maximum, weight decay up
to 0.5, maximize with weight decay.
"""
from optgold.golden.grid.case import cases

CASES = cases("adamax", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01)),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, eps=1e-2)),
    ("betas_isotropic", "quadratic_isotropic_2d", 200, dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3)),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=5e-3, betas=(0.9, 0.99), weight_decay=0.1)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.5, maximize=True)),
    ("deep", "quadratic_deep_100d", 100, dict(lr=0.02, betas=(0.8, 0.95), eps=0.1, weight_decay=0.05)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-2)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1)
CONTRACT_LONG_HP = dict(betas=(0.999, 0.999))  # the step count reaches the update past 2048 steps
