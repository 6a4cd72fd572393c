"""The muon cases: 2-D parameters only, one tall and one wide matrix per problem.

eps = 20 is on the scale of ||M||_F on quadratic_matrices (2 to 90), so the clamp
max(||M||, eps) is active for part of the run: only there do eps and the momentum
buffer's scale reach the parameters. adjust_lr_fn takes all three values (None and
"original" are the same rule); non-default Newton-Schulz coefficients (the quintic that
converges to orthogonal) and step counts; momentum 0, and Nesterov off.
"""
from optgold.golden.grid.case import cases

CASES = cases("muon", [
    ("default", "quadratic_matrices", 200, dict(lr=0.01)),
    ("no_nesterov", "quadratic_matrices", 200, dict(lr=0.02, momentum=0.9, nesterov=False)),
    ("eps", "quadratic_matrices", 200, dict(lr=0.02, eps=20.0)),
    ("match_rms_adamw", "quadratic_matrices", 200, dict(lr=0.05, adjust_lr_fn="match_rms_adamw", weight_decay=0.5)),
    ("ns_rosenbrock", "rosenbrock_matrices", 300, dict(lr=0.01, ns_coefficients=(1.875, -1.25, 0.375), ns_steps=8)),
    ("original_rosenbrock", "rosenbrock_matrices", 300, dict(lr=0.01, adjust_lr_fn="original", momentum=0.8, ns_steps=3)),
    ("no_momentum", "quadratic_matrices", 200, dict(lr=0.01, momentum=0.0, weight_decay=0.3)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.02, momentum=0.9, weight_decay=0.1)
