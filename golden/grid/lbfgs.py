"""The lbfgs cases: free runs only (LBFGS evaluates the closure at points of its own choosing).

Coverage: both line_search_fn values; lr as the fixed step (0.1 to 0.5) and as the line
search's first trial (30: every search brackets and zooms); history_size 2 to 10, shorter
than its run's iterations; max_eval binding (4 to 12 evaluations in the strong Wolfe cases,
the default max_iter * 5 // 4 in wolfe_history_chained), and running out inside a line
search (wolfe_complex_cubic_matrices); tolerance_grad stopping a step and
then every later step at its first evaluation (tolerance_grad_rotated); tolerance_change
stopping on |f - f_prev| (tolerance_change_fixed, 3 times) and on max |t d|
(tolerance_change_rotated, twice); pairs with y.s <= 0 skipped (fixed_noisy: only noisy
gradients give them, the line search rules them out); in the line search, extrapolation,
zoom, a cubic without a real minimizer (d1^2 < g1 g2, bisected: wolfe_complex_cubic_matrices),
the move up from the bracket's lower end after a trial clamped to it or two trials near it
(wolfe_far_trial_rosenbrock, lr 460), a lower trial that becomes the low end without a swap
(wolfe_zoom_noisy: the noisy gradient disagrees with the loss) and the swap of its ends.
tests/test_branch_coverage.py holds the branches no case takes, with their reasons.

L-BFGS makes discrete decisions: the Armijo and curvature tests, the order of the bracket's
ends, the cubic's sqrt branch, y.s > 1e-10, and the stopping tests. A legitimate float32
run sees the loss rounded to float32 and parameters that drift from the golden; were it to
take another branch, its evaluation count and its trajectory would leave the golden
(func_evals and n_iter are compared exactly). So runs are short, end before the iterates
converge to rounding noise (where |f - f_prev| and y.s become noise), and end before a
step that stalls (gtd > -tolerance_change at its first iteration: the next y would be the
difference of two evaluations at one point). Smallest margin of each decision over all
cases, measured on the golden, relative to the size of what it compares: Armijo 2.3e-3 of
|f|, bracket order 3.9e-3 of |f|, curvature 7.6e-3 of sum |g_i d_i|, moving off the
bracket's end 2.5e-3 of its length, y.s > 1e-10 3.7e-2 of sum |y_i s_i|, tolerance_grad
0.76, |f - f_prev| 2.4e-3 of |f|, max |t d| 1.9e-2 of tolerance_change; the cubic's
d1^2 - g1 g2 >= 0 stays 250 times above what float32 losses can move it (its
3 (f1 - f2) / (x1 - x2) cancels). The last three cases, added for branch coverage, were
picked from a search of random configurations that take their branch for margins of the
same order: Armijo 7.6e-3 of |f|, a zoom trial against the low end 4.8e-3 of |f|, bracket
order 2.1e-2, curvature 1.5e-2, moving off the bracket's end 6.7e-3, |f - f_prev| 7.7e-3,
and |d1^2 - g1 g2| (negative ones included) 4e4 times a float32 bound on its error; the
reference fed losses and gradients with random errors of 2 and 8 float32 ulps (20 seeds
each) took their golden evaluation counts, and drifted by at most 1.3e-5, 3.1e-4 and 8e-5.
Float32's unit roundoff is 6e-8, and float32 free runs
drift by at most 9e-5 (fixed_rotated), 1e-5 or less elsewhere. Checked: torch.optim.LBFGS
in float32 and float64, and torch's LBFGS fed losses and gradients with random errors of 2
and of 8 ulps at every evaluation (20 seeds each), took the golden's evaluation counts on
every case and stayed within tolerance (at most 0.71 of it). Rejected: 10 steps of strong
Wolfe on rosenbrock_2d with max_iter 10 (float32 drift 1e-1, and float64 drift 2e-5, so
that the 50-digit certificate moved too); short first trials (lr 0.01 to 0.05), whose
extrapolations fit cubics where d1^2 - g1 g2 is within float32 rounding of 0; and
tolerance_change on quadratic_deep_100d, which stalls.
"""
from optgold.golden.grid.case import cases

CASES = cases("lbfgs", [
    ("fixed_rotated", "quadratic_rotated_10d", 10, dict(lr=0.5, max_iter=4, history_size=5)),
    ("fixed_rosenbrock", "rosenbrock_2d", 10, dict(lr=0.1, max_iter=4, history_size=4)),
    ("fixed_noisy", "quadratic_rotated_10d_noisy", 37, dict(lr=0.3, max_iter=1, history_size=10)),
    ("wolfe_zoom_rosenbrock", "rosenbrock_2d", 3,
     dict(lr=30.0, max_iter=5, max_eval=8, line_search_fn="strong_wolfe")),
    ("wolfe_history_chained", "rosenbrock_chained", 5,
     dict(max_iter=4, history_size=3, line_search_fn="strong_wolfe")),
    ("wolfe_max_eval_deep", "quadratic_deep_100d", 10, dict(max_iter=20, max_eval=6, line_search_fn="strong_wolfe")),
    ("tolerance_grad_rotated", "quadratic_rotated_10d", 8,
     dict(max_iter=5, tolerance_grad=1e-2, line_search_fn="strong_wolfe")),
    ("tolerance_change_rotated", "quadratic_rotated_10d", 5,
     dict(max_iter=5, tolerance_change=5e-2, line_search_fn="strong_wolfe")),
    ("tolerance_change_fixed", "quadratic_rotated_10d", 8, dict(lr=0.5, max_iter=5, tolerance_change=3e-3)),
    ("wolfe_complex_cubic_matrices", "rosenbrock_matrices", 5,
     dict(lr=1.4, max_iter=3, max_eval=4, history_size=10, line_search_fn="strong_wolfe")),
    ("wolfe_far_trial_rosenbrock", "rosenbrock_2d", 5,
     dict(lr=460.0, max_iter=1, max_eval=12, history_size=3, line_search_fn="strong_wolfe")),
    ("wolfe_zoom_noisy", "quadratic_rotated_10d_noisy", 6,
     dict(lr=1.1, max_iter=4, max_eval=8, history_size=10, line_search_fn="strong_wolfe")),
])
