"""The rmsprop cases.

Gradients here reach 10 .. 300, so eps only matters where it is comparable to
sqrt(v): eps of 0.1 and 1 (at 1e-3 the TensorFlow eps-under-the-root form would be
within 1e-5 of torch's). Weight decay of 0.5 .. 5 is large enough next to those
gradients to move v. Centered runs once with and once without momentum, alpha away
from 0.99 twice, maximize with decay and momentum.
"""
from optgold.golden.grid.case import cases

CASES = cases("rmsprop", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict()),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(lr=3e-3, eps=0.1)),
    ("alpha_chained", "rosenbrock_chained", 300, dict(lr=3e-3, alpha=0.9, eps=0.1)),
    ("momentum_decay_isotropic", "quadratic_isotropic_2d", 200,
     dict(lr=1e-2, momentum=0.9, eps=0.1, weight_decay=0.5)),
    ("centered_noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=3e-3, centered=True, eps=0.1, weight_decay=0.5)),
    ("centered_momentum_rotated", "quadratic_rotated_10d", 200,
     dict(lr=3e-3, alpha=0.95, centered=True, momentum=0.5, eps=1.0)),
    ("weight_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=3e-3, eps=1.0, weight_decay=5.0)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200,
     dict(lr=3e-3, eps=1.0, weight_decay=1.0, momentum=0.5, maximize=True)),
    ("deep", "quadratic_deep_100d", 100, dict(lr=1e-2, alpha=0.9, eps=0.1, weight_decay=0.1)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.1, momentum=0.5, centered=True)
