"""The lamb cases.

Every hyperparameter and variant shows above float32 noise: eps of 1e-3 and 0.3 (where
sqrt(v_hat) is small), betas (0.5, 0.9) and (0.9, 0.95), weight decay 0.01 to 0.5 (inside the
trust ratio's denominator), and trust ratios above 1 (so timm's trust_clip differs) on
every case. Bias correction matters only through eps and weight decay: with neither,
the trust ratio divides the per-tensor factor (1 - beta1^t) / sqrt(1 - beta2^t) out again
(default_rotated: 1.7e-6 apart). No problem has a tensor norm above 10 or an all-zero
tensor, so phi_clamp_10 and the zero-norm convention are checked by
tests/test_reference_lamb.py instead.

LAMB on rosenbrock_2d with small betas is chaotic: with betas (0.5, 0.9) the correct class
used 0.53 of its float64 free-run bound, and with (0.5, 0.99) its exp_avg left the free-run
state bound at step 274 (a false alarm), so the betas case runs on the rotated quadratic.
"""
from optgold.golden.grid.case import cases

CASES = cases("lamb", [
    ("default_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01)),
    ("eps_rosenbrock", "rosenbrock_2d", 300, dict(lr=0.01, eps=1e-3)),
    ("betas_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3)),
    ("weight_decay_chained", "rosenbrock_chained", 300, dict(lr=5e-3, betas=(0.9, 0.99), weight_decay=0.1)),
    ("decay_rotated", "quadratic_rotated_10d", 200, dict(lr=0.01, weight_decay=0.5)),
    ("large_eps_isotropic", "quadratic_isotropic_2d", 150, dict(lr=0.02, betas=(0.9, 0.95), eps=0.3)),
    ("decay_deep", "quadratic_deep_100d", 100, dict(lr=0.01, eps=1e-3, weight_decay=0.01)),
    ("noisy", "quadratic_rotated_10d_noisy", 200, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.1)
CONTRACT_LONG_HP = dict(betas=(0.9, 0.999))  # the step count reaches the update past 2048 steps
