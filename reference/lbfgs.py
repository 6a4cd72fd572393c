"""L-BFGS, as torch.optim.LBFGS implements it (after minFunc; the line search is ported
from torch7's lswolfe.lua). One step() is up to max_iter iterations on all parameters
as one flat vector x:

    f, g = closure(x); func_evals += 1;  stop if max|g| <= tolerance_grad
    repeat (n_iter < max_iter):
        n_iter += 1
        first iteration ever: d = -g, H_diag = 1, memory empty
        otherwise:  y = g - g_prev, s = t * d
                    if y.s > 1e-10: push (y, s, 1 / y.s) (drop the oldest beyond history_size);
                                    H_diag = y.s / y.y
                    d = -H g by the two-loop recursion, with H_0 = H_diag * I
        g_prev, f_prev = g, f
        t = min(1, 1 / |g|_1) * lr on the first iteration ever, else lr
        gtd = g.d;  stop if gtd > -tolerance_change
        line_search_fn None:   x += t d; unless this is the last iteration, f, g = closure(x)
        "strong_wolfe":        t, f, g = strong Wolfe search along d from t (c1 = 1e-4,
                               c2 = 0.9, at most max_eval - evals so far evaluations); x += t d
        func_evals += evaluations made
        stop if n_iter == max_iter, evals >= max_eval, max|g| <= tolerance_grad,
             max|t d| <= tolerance_change, or |f - f_prev| < tolerance_change

State (torch keeps it in the first parameter's state): func_evals and n_iter (totals
over all steps), d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, al.
Only the counts are compared (compared_state): they record every discrete decision, and
they must match exactly. d, prev_flat_grad, H_diag, t and prev_loss are gradients and
losses, or quotients of their differences; in a free run their error grows with the
problem's curvature (a gradient error is the Hessian times the parameter error), which
the state tolerance model does not bound, and their effect shows in the parameters.

Torch's choices, kept here: the initial step is scaled only on the very first
iteration (state n_iter == 1), not on each step() call; without a line search the last
iteration does not re-evaluate, so the next step() starts with a fresh evaluation at
the same point; the line search is called with its default tolerance_change = 1e-9,
not the optimizer's; max_eval defaults to max_iter * 5 // 4. The two-loop recursion and
H_0 = (y.s / y.y) I are Nocedal & Wright's Algorithms 7.4 and 7.5; their line search
starts at t = 1 on every iteration, torch's at min(1, 1 / |g|_1) * lr on the first.
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:LBFGS", closure=True, compared_state=("func_evals", "n_iter"))
DEFAULTS = dict(lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                history_size=100, line_search_fn=None)

VARIANTS = {
    "torch": "torch.optim.LBFGS",
    "no_hessian_scaling": "H_0 = I: H_diag is never set to y.s / y.y",
    "first_step_unscaled": "the first iteration steps lr along -g, not min(1, 1/|g|_1) * lr",
    "history_drops_newest": "known bug: a full history drops its newest pair instead of the oldest",
    "no_curvature_check": "a pair (y, s) is stored even when y.s <= 1e-10",
}


def init_state(size, hp, zero=0.0):
    # counts start at the number type's zero, so that goldens store them as float64 like the rest
    return {"func_evals": zero, "n_iter": zero, "d": None, "t": None, "old_dirs": None, "old_stps": None,
            "ro": None, "H_diag": None, "prev_flat_grad": None, "prev_loss": None}


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def _max_abs(a):
    return max(abs(x) for x in a)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to bounds."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2


def _strong_wolfe(obj_func, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """(f, g, t, evaluations) at a step t along d satisfying the strong Wolfe conditions
    (or the best point found): bracketing, then zoom by cubic interpolation."""
    d_norm = _max_abs(d)
    f_new, g_new = obj_func(t)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)

    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(t)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to the bracket's ends moves 0.1 of its length inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(t)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo fails, or no lower than the low end: the trial becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def step(x, closure, state, *, lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size,
         line_search_fn, variant="torch"):
    """One torch LBFGS.step(closure) on the flat parameters x (updated in place);
    closure(point) -> (loss, gradient list)."""
    if max_eval is None:
        max_eval = max_iter * 5 // 4
    loss, flat_grad = closure(list(x))
    current_evals = 1
    state["func_evals"] += 1
    if _max_abs(flat_grad) <= tolerance_grad:
        return
    opt_cond = False

    d, t = state["d"], state["t"]
    old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
    H_diag, prev_flat_grad, prev_loss = state["H_diag"], state["prev_flat_grad"], state["prev_loss"]

    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        state["n_iter"] += 1

        # descent direction
        if state["n_iter"] == 1:
            d = [-gi for gi in flat_grad]
            old_dirs, old_stps, ro = [], [], []
            H_diag = 1.0
        else:
            y = [a - b for a, b in zip(flat_grad, prev_flat_grad)]
            s = [di * t for di in d]
            ys = _dot(y, s)
            if ys > 1e-10 or variant == "no_curvature_check":
                if len(old_dirs) == history_size:
                    drop = -1 if variant == "history_drops_newest" else 0
                    old_dirs.pop(drop)
                    old_stps.pop(drop)
                    ro.pop(drop)
                old_dirs.append(y)
                old_stps.append(s)
                ro.append(1 / ys)
                if variant != "no_hessian_scaling":
                    H_diag = ys / _dot(y, y)

            # two-loop recursion: d = -H g
            num_old = len(old_dirs)
            if "al" not in state:
                state["al"] = [None] * history_size
            al = state["al"]
            q = [-gi for gi in flat_grad]
            for i in range(num_old - 1, -1, -1):
                al[i] = _dot(old_stps[i], q) * ro[i]
                q = [qj - al[i] * yj for qj, yj in zip(q, old_dirs[i])]
            r = [qj * H_diag for qj in q]
            for i in range(num_old):
                be_i = _dot(old_dirs[i], r) * ro[i]
                r = [rj + (al[i] - be_i) * sj for rj, sj in zip(r, old_stps[i])]
            d = r

        prev_flat_grad = list(flat_grad)
        prev_loss = loss

        # step length
        if state["n_iter"] == 1 and variant != "first_step_unscaled":
            t = min(1.0, 1.0 / sum(abs(gi) for gi in flat_grad)) * lr
        else:
            t = lr

        gtd = _dot(flat_grad, d)
        if gtd > -tolerance_change:
            break

        ls_func_evals = 0
        if line_search_fn is not None:
            if line_search_fn != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")

            def obj_func(step_length, d=d):
                return closure([xi + step_length * di for xi, di in zip(x, d)])

            loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, t, d, loss, flat_grad, gtd,
                                                              max_ls=max_eval - current_evals)
            x[:] = [xi + t * di for xi, di in zip(x, d)]
            opt_cond = _max_abs(flat_grad) <= tolerance_grad
        else:
            x[:] = [xi + t * di for xi, di in zip(x, d)]
            if n_iter != max_iter:
                # no re-evaluation after the last iteration
                loss, flat_grad = closure(list(x))
                opt_cond = _max_abs(flat_grad) <= tolerance_grad
                ls_func_evals = 1

        current_evals += ls_func_evals
        state["func_evals"] += ls_func_evals

        # stopping conditions
        if n_iter == max_iter:
            break
        if current_evals >= max_eval:
            break
        if opt_cond:
            break
        if _max_abs([di * t for di in d]) <= tolerance_change:
            break
        if abs(loss - prev_loss) < tolerance_change:
            break

    state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                 prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
