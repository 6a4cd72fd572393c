"""The sparse_adam cases: embedding-like tables whose rows get a gradient on about half the steps.

Every case runs on quadratic_tables_sparse, so that the masking (absent rows keep p, m
and v), the per-tensor step count used by rows seen late, and the repeated indices
that need coalescing all matter. eps of 1e-2 and more where sqrt(v) shrinks; a low
beta2 and a high one (bias correction over the whole run); maximize runs on -f.
"""
from optgold.golden.grid.case import cases

CASES = cases("sparse_adam", [
    ("default", "quadratic_tables_sparse", 200, dict(lr=0.01)),
    ("eps", "quadratic_tables_sparse", 300, dict(lr=0.02, eps=0.05)),
    ("betas_low", "quadratic_tables_sparse", 300, dict(lr=0.02, betas=(0.5, 0.9), eps=1e-2)),
    ("beta2_high", "quadratic_tables_sparse", 300, dict(lr=0.01, betas=(0.9, 0.9999), eps=1e-3)),
    ("beta1_zero", "quadratic_tables_sparse", 200, dict(lr=0.01, betas=(0.0, 0.99), eps=1e-2)),
    ("large_lr", "quadratic_tables_sparse", 200, dict(lr=0.1, betas=(0.8, 0.99), eps=1e-3)),
    ("maximize", "quadratic_tables_sparse", 300, dict(lr=0.02, betas=(0.8, 0.999), eps=1e-2, maximize=True)),
])

# golden/contracts.py: the contract cases run with these (and the long run with CONTRACT_LONG_HP on top)
CONTRACT_HP = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-3)
CONTRACT_LONG_HP = dict(betas=(0.9, 0.999))  # the step count reaches the update past 2048 steps
