"""The sgd cases."""
from optgold.golden.grid.case import cases

CASES = cases("sgd", [
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
    ("groups_rotated", "quadratic_rotated_10d", 200, dict(lr=1e-3, momentum=0.9),
     [{"tensors": [0], "hp": dict(nesterov=True, weight_decay=0.1)},
      {"tensors": [1], "hp": dict(lr=5e-4, dampening=0.3)}]),
    ("one_cycle_rotated", "quadratic_rotated_10d", 200, dict(lr=1e-3, momentum=0.9, weight_decay=0.01), [],
     {"scheduler": "one_cycle_lr", "hp": {"max_lr": 2e-3, "total_steps": 200, "three_phase": True}}),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=5e-3, momentum=0.9, dampening=0.1, weight_decay=0.1)
