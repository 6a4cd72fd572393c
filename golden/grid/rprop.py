"""The rprop cases.

Every case flips gradient signs hundreds of times and runs its step sizes into both
clamps; step_sizes are narrowed so that the upper one is reachable, and lr = 0.5 above
step_max checks that torch clamps on the first step too.

Rprop branches on sign(g_prev * g_t). Fed the golden gradients (replay), a float32
implementation takes exactly the golden's branches: no product here comes near
float32 underflow. In a free run it computes its gradients at its own, rounded,
parameters, so a golden gradient element closer to zero than that rounding can move it
flips a branch and the run leaves the golden by a whole step size. The cases are chosen
so that this never happens while a free run is judged: over the free-run horizon every
|g_i| exceeds sum_j |H_ij| * C * drift_t (the Hessian row times the free-run bound's own
drift allowance, in float32) by a margin of 1.9 or more. A lower step_min keeps the
iterates on a coarse lattice and their gradients away from zero; quadratic_deep_100d is
left out because its mixed spectrum brings gradient elements within that allowance of
zero by step 19 whatever the step sizes.
"""
from optgold.golden.grid.case import cases

CASES = cases("rprop", [
    ("clamps_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, step_sizes=(5e-3, 0.05))),
    ("etas_rosenbrock", "rosenbrock_2d", 200, dict(lr=0.02, etas=(0.3, 1.3), step_sizes=(1e-2, 0.05))),
    ("etas_chained", "rosenbrock_chained", 150, dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(5e-3, 0.05))),
    ("etas_rotated", "quadratic_rotated_10d", 200, dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(2e-2, 0.1))),
    ("maximize_rotated", "quadratic_rotated_10d", 100, dict(lr=0.02, maximize=True, step_sizes=(1e-2, 0.04))),
    ("lr_above_max_isotropic", "quadratic_isotropic_2d", 100,
     dict(lr=0.5, etas=(0.3, 1.5), step_sizes=(0.01, 0.3))),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, step_sizes=(1e-2, 0.1))),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.01, step_sizes=(1e-4, 1.0))
