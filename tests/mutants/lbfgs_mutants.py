"""L-BFGS written by hand, once correctly and then with one realistic bug per class.

``LBFGS`` follows torch.optim.LBFGS (its state lives in the first parameter's state,
with torch's names); the strong Wolfe line search is torch's own function, so that the
mutants below are bugs in the quasi-Newton part, or, for the line-search mutants, torch's
own _strong_wolfe and _cubic_interpolate with one source line replaced. Each mutant
overrides one small method and differs from it in one place, marked ``# BUG``.
"""
import importlib
import inspect

import torch
from torch.optim import Optimizer
from torch.optim.lbfgs import _strong_wolfe

_TORCH_LBFGS = importlib.import_module("torch.optim.lbfgs")  # torch.optim does not keep the submodule's name


def _torch_line_search(function, old, new):
    """torch's _strong_wolfe, with ``old`` replaced by ``new`` in the source of ``function``
    (_strong_wolfe or the _cubic_interpolate it calls): one bug in torch's own code."""
    namespace = dict(vars(_TORCH_LBFGS))
    source = inspect.getsource(getattr(_TORCH_LBFGS, function))
    assert source.count(old) == 1, f"torch.optim.lbfgs.{function} changed: the mutant's line {old!r} is gone"
    exec(compile(source.replace(old, new), f"<mutant {function}>", "exec"), namespace)
    if function != "_strong_wolfe":
        exec(compile(inspect.getsource(_strong_wolfe), "<mutant _strong_wolfe>", "exec"), namespace)
    return namespace["_strong_wolfe"]


class LBFGS(Optimizer):
    """Correct L-BFGS: two-loop recursion, H_0 = (y.s / y.y) I, fixed step or strong Wolfe search."""

    def __init__(self, params, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self):
        return torch.cat([p.grad.reshape(-1) for p in self._params])

    def _add(self, t, d):
        offset = 0
        for p in self._params:
            p.add_(d[offset:offset + p.numel()].view_as(p), alpha=t)
            offset += p.numel()

    def _evaluate(self, closure, x, t, d):
        self._add(t, d)
        loss = float(closure())
        grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.copy_(saved)
        return loss, grad

    # -- the quasi-Newton parts the mutants change --------------------------------------------

    def remember(self, state, y, s, history_size):
        """Store the pair (y, s) if it has positive curvature; rescale H_0."""
        ys = y.dot(s)
        if ys > 1e-10:
            if len(state["old_dirs"]) == history_size:
                state["old_dirs"].pop(0)
                state["old_stps"].pop(0)
                state["ro"].pop(0)
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)

    def direction(self, state, flat_grad):
        """-H g by the two-loop recursion."""
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        al = [None] * len(old_dirs)
        q = flat_grad.neg()
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q.add_(old_dirs[i], alpha=-al[i])
        r = q * state["H_diag"]
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r.add_(old_stps[i], alpha=al[i] - be_i)
        return r

    def scaled_first_step(self, state, n_iter):
        """Is this the very first iteration, whose step is scaled by min(1, 1/|g|_1)?"""
        return state["n_iter"] == 1

    def evals_after(self, current_evals, ls_func_evals):
        return current_evals + ls_func_evals

    def line_search(self, obj_func, x, t, d, loss, flat_grad, gtd, max_ls):
        return _strong_wolfe(obj_func, x, t, d, loss, flat_grad, gtd, max_ls=max_ls)

    # -- the step ------------------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure):
        closure = torch.enable_grad()(closure)
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if flat_grad.abs().max() <= tolerance_grad:
            return orig_loss

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                self.remember(state, flat_grad.sub(state["prev_flat_grad"]), state["d"].mul(state["t"]),
                              group["history_size"])
                d = self.direction(state, flat_grad)
            state["prev_flat_grad"] = flat_grad.clone()
            state["prev_loss"] = prev_loss = loss
            t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if self.scaled_first_step(state, n_iter) else lr
            state["d"], state["t"] = d, t

            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x = [p.clone() for p in self._params]
                loss, flat_grad, t, ls_func_evals = self.line_search(
                    lambda x, t, d: self._evaluate(closure, x, t, d), x, t, d, loss, flat_grad, gtd,
                    max_eval - current_evals)
                state["t"] = t
                self._add(t, d)
                opt_cond = flat_grad.abs().max() <= tolerance_grad
            elif group["line_search_fn"] is None:
                self._add(t, d)
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._flat_grad()
                    opt_cond = flat_grad.abs().max() <= tolerance_grad
                    ls_func_evals = 1
            else:
                raise NotImplementedError(f"line_search_fn={group['line_search_fn']!r}")
            current_evals = self.evals_after(current_evals, ls_func_evals)
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if d.mul(t).abs().max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
        return orig_loss


class LBFGSHistoryDropsNewest(LBFGS):
    """A full history drops its newest pair instead of the oldest (pop() for pop(0))."""

    def remember(self, state, y, s, history_size):
        ys = y.dot(s)
        if ys > 1e-10:
            if len(state["old_dirs"]) == history_size:
                state["old_dirs"].pop()  # BUG: pop(0), the oldest pair
                state["old_stps"].pop()
                state["ro"].pop()
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)


class LBFGSHDiagInverted(LBFGS):
    """The initial inverse Hessian scale is inverted: y.y / y.s instead of y.s / y.y."""

    def remember(self, state, y, s, history_size):
        ys = y.dot(s)
        if ys > 1e-10:
            if len(state["old_dirs"]) == history_size:
                state["old_dirs"].pop(0)
                state["old_stps"].pop(0)
                state["ro"].pop(0)
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / ys)
            state["H_diag"] = y.dot(y) / ys  # BUG: ys / y.dot(y)


class LBFGSNoCurvatureCheck(LBFGS):
    """Pairs are stored whatever their curvature: y.s <= 0 (a noisy gradient) corrupts H."""

    def remember(self, state, y, s, history_size):
        ys = y.dot(s)
        if ys != 0:  # BUG: ys > 1e-10
            if len(state["old_dirs"]) == history_size:
                state["old_dirs"].pop(0)
                state["old_stps"].pop(0)
                state["ro"].pop(0)
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)


class LBFGSSecondLoopReversed(LBFGS):
    """The two-loop recursion's second loop runs newest to oldest, copied from the first loop."""

    def direction(self, state, flat_grad):
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        al = [None] * len(old_dirs)
        q = flat_grad.neg()
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q.add_(old_dirs[i], alpha=-al[i])
        r = q * state["H_diag"]
        for i in range(len(old_dirs) - 1, -1, -1):  # BUG: range(len(old_dirs)), oldest first
            be_i = old_dirs[i].dot(r) * ro[i]
            r.add_(old_stps[i], alpha=al[i] - be_i)
        return r


class LBFGSFirstStepScaledEveryCall(LBFGS):
    """The first iteration of every step() call takes min(1, 1/|g|_1) * lr, not only the very first one."""

    def scaled_first_step(self, state, n_iter):
        return n_iter == 1  # BUG: state["n_iter"] == 1, the first iteration ever


class LBFGSLineSearchEvalsUncounted(LBFGS):
    """The line search's evaluations are not counted toward max_eval, so max_eval never stops the iterations."""

    def evals_after(self, current_evals, ls_func_evals):
        return current_evals  # BUG: current_evals + ls_func_evals


class _PatchedLineSearch(LBFGS):
    """LBFGS whose strong-Wolfe line search is torch's with one source line replaced (``search``)."""

    search = None

    def line_search(self, obj_func, x, t, d, loss, flat_grad, gtd, max_ls):
        return self.search(obj_func, x, t, d, loss, flat_grad, gtd, max_ls=max_ls)


_LAST_TRIAL_SEARCH = _torch_line_search(
    "_strong_wolfe", "        bracket = [0, t]\n        bracket_f = [f, f_new]\n        bracket_g = [g, g_new]\n",
    "        bracket = [t, t]  # BUG: [0, t], [f, f_new], [g, g_new]: the start is a candidate too\n"
    "        bracket_f = [f_new, f_new]\n        bracket_g = [g_new, g_new]\n")


class LBFGSExhaustedSearchKeepsLastTrial(_PatchedLineSearch):
    """A line search out of evaluations returns its last trial, even where the start had the lower loss."""

    search = staticmethod(_LAST_TRIAL_SEARCH)


_FAR_BOUND_CUBIC = _torch_line_search(
    "_cubic_interpolate", "        return (xmin_bound + xmax_bound) / 2.0",
    "        return xmax_bound  # BUG: (xmin_bound + xmax_bound) / 2.0, bisect")


class LBFGSCubicWithoutMinimumToFarBound(_PatchedLineSearch):
    """A cubic with no real minimizer (d1^2 < g1 g2) sends the trial to its far bound instead of bisecting."""

    search = staticmethod(_FAR_BOUND_CUBIC)


_WRONG_END_ZOOM = _torch_line_search(
    "_strong_wolfe", "                if abs(t - max(bracket)) < abs(t - min(bracket)):",
    "                if abs(t - max(bracket)) > abs(t - min(bracket)):  # BUG: <, the nearer end")


class LBFGSZoomMovesFromWrongEnd(_PatchedLineSearch):
    """A zoom trial stuck near one end of the bracket is moved 0.1 of its length in from the other end."""

    search = staticmethod(_WRONG_END_ZOOM)


_ALWAYS_SWAP_ZOOM = _torch_line_search(
    "_strong_wolfe", "            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:",
    "            else:  # BUG: elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:")


class LBFGSZoomAlwaysSwaps(_PatchedLineSearch):
    """A lower zoom trial always makes the old low end the high end, even when the slope points past it."""

    search = staticmethod(_ALWAYS_SWAP_ZOOM)


REFERENCE = "lbfgs"
CORRECT = LBFGS
MUTANTS = [
    LBFGSHistoryDropsNewest,
    LBFGSHDiagInverted,
    LBFGSNoCurvatureCheck,
    LBFGSSecondLoopReversed,
    LBFGSFirstStepScaledEveryCall,
    LBFGSLineSearchEvalsUncounted,
    LBFGSExhaustedSearchKeepsLastTrial,
    LBFGSCubicWithoutMinimumToFarBound,
    LBFGSZoomMovesFromWrongEnd,
    LBFGSZoomAlwaysSwaps,
]
