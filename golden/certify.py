"""How accurate are the float64 goldens? The same reference, run again with mpmath.

Replay: the mpmath run takes the golden gradients, so it measures the rounding of the
update formulas alone. Free: the mpmath run computes its own gradients, so it also
measures how the problem's dynamics amplify float64 rounding.
"""
DIGITS = 50


def _max_abs_error(rows64, rows_exact):
    return float(max(abs(a - b) for r64, rx in zip(rows64, rows_exact) for a, b in zip(r64, rx)))


def _max_rel_error(rows64, rows_exact):
    # normwise per step: |p64 - p|_inf / |p|_inf, worst step
    worst = 0.0
    for r64, rx in zip(rows64, rows_exact):
        scale = max(abs(b) for b in rx) or 1
        worst = max(worst, float(max(abs(a - b) for a, b in zip(r64, rx)) / scale))
    return worst


def certificate(optimizer, problem, hp, steps, params64, grads64, run_args):
    import mpmath
    from optgold.reference import trajectory

    with mpmath.workdps(DIGITS):
        replay, _, _ = trajectory.run(optimizer, problem, hp, steps, num=mpmath.mpf, grads=grads64, **run_args)
        free, _, _ = trajectory.run(optimizer, problem, hp, steps, num=mpmath.mpf, **run_args)
        return {
            "digits": DIGITS,
            "replay_max_abs_error": _max_abs_error(params64, replay),
            "replay_max_rel_error": _max_rel_error(params64, replay),
            "free_max_abs_error": _max_abs_error(params64, free),
            "free_max_rel_error": _max_rel_error(params64, free),
        }
