"""The lion cases.

Every hyperparameter shows: lr is the step itself (sign updates move each element by lr),
betas are non-default in three cases (beta1 < beta2 and beta1 > beta2), weight_decay of
0.1 to 1 (lr * weight_decay of 5e-4 to 5e-3 per step), maximize with decay on -f.

sign(c_t) is a discontinuity: where c_t = beta1 m + (1 - beta1) g is within rounding of 0
a correct float32 implementation may step the other way (2 lr apart). On every case the
smallest |c_t| / (|beta1 m| + |(1 - beta1) g|) over all steps and elements of the golden is
3.3e-5 (default_rotated), 3.0e-4, 2.9e-4, 7.6e-4, 3.6e-5 (decay_deep), 2.7e-3 and 2.8e-3,
at least 500 times float32's unit roundoff (6e-8). A float32 emulation that gives m a
random error of up to 4 ulps at every step flipped no sign in 20 seeds on any case, and
the free-run drift profiles (which would jump by lr at a flip) let every case be judged
to its last step in float32.
"""
from optgold.golden.grid.case import cases

CASES = cases("lion", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01)),
    ("betas_rosenbrock", "rosenbrock_2d", 300, dict(lr=3e-3, betas=(0.5, 0.9))),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=3e-3, weight_decay=1.0)),
    ("maximize_decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.5, maximize=True)),
    ("decay_deep", "quadratic_deep_100d", 100, dict(lr=0.01, weight_decay=0.3)),
    ("betas_isotropic", "quadratic_isotropic_2d", 150, dict(lr=0.03, betas=(0.95, 0.9))),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=5e-3, betas=(0.8, 0.98), weight_decay=0.1)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
