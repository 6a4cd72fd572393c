"""The adagrad cases.

eps of 1e-2 and more, a step above sqrt(sum) for small gradients; lr_decay large enough
to halve lr within the run; initial_accumulator_value comparable to the g^2 of the deep
quadratic's many small-eigenvalue directions; weight decay up to 0.5; maximize with
weight decay.
"""
from optgold.golden.grid.case import cases

CASES = cases("adagrad", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict(lr=0.1)),
    ("eps_isotropic", "quadratic_isotropic_2d", 200, dict(lr=0.5, eps=0.1)),
    ("lr_decay_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.05, lr_decay=0.01)),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=0.05, weight_decay=0.1)),
    ("weight_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.1, weight_decay=0.5)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.1, weight_decay=0.1, maximize=True, lr_decay=0.05)),
    ("accumulator_deep", "quadratic_deep_100d", 100,
     dict(lr=0.1, eps=1e-3, weight_decay=0.05, lr_decay=0.02, initial_accumulator_value=1.0)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.1, eps=1e-2, initial_accumulator_value=0.1)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-3)
