"""Run an implementation along a golden case, in free-run or gradient-replay mode.

free:   the implementation's own parameters get their gradient from the problem.
replay: step t gets the golden gradient g_t, whatever the parameters are, which
        isolates the update arithmetic from the problem's dynamics.
"""
import signal
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from optgold.problems import TorchProblem

MODES = ("free", "replay")


class CaseTimeout(Exception):
    pass


@dataclass
class Trajectory:
    """What the implementation did: params rows (start first), state rows, and how it ended."""
    params: list = field(default_factory=list)
    state: dict = field(default_factory=dict)
    step_counts: list = field(default_factory=list)
    error: str = None  # set when the implementation raised or timed out
    error_type: type = None
    error_step: int = None

    def arrays(self):
        return np.array(self.params), {k: np.array(v) for k, v in self.state.items()}


@contextmanager
def time_limit(seconds):
    """Raise CaseTimeout in the running case after ``seconds`` (main thread only: signals)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise CaseTimeout(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def default_dtype(dtype):
    """Run with torch's default dtype set to the check's dtype, as a program in that
    precision does: state an implementation creates with the default dtype (torch's
    NAdam keeps mu_product so) then has the precision of the parameters."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def run(adapter, case, mode, timeout=None, closure=False):
    """Drive ``adapter`` through ``case``; never raises for the implementation's own errors.

    ``closure``: the optimizer evaluates the problem itself (LBFGS); free mode only.
    """
    problem = TorchProblem(case.problem, case.negate) if mode == "free" else None
    out = Trajectory(params=[adapter.flat_params()])
    try:
        with time_limit(timeout):
            for t in range(case.steps):
                out.error_step = t + 1
                if closure:
                    adapter.step_closure(lambda x, t=t: tuple(v.numpy() for v in
                                                               problem.loss_and_gradient(torch.from_numpy(x), t)))
                elif mode == "replay":
                    adapter.step(case.grads[t])
                else:
                    adapter.step(problem.gradient(torch.from_numpy(out.params[-1]), t).numpy())
                out.params.append(adapter.flat_params())
                for name, values in adapter.flat_state(case.state).items():
                    out.state.setdefault(name, []).append(values)
                out.step_counts.append(adapter.step_counts())
                if not np.isfinite(out.params[-1]).all():
                    break  # nothing after a NaN or inf is informative
            out.error_step = None
    except CaseTimeout as error:
        out.error, out.error_type = f"timed out at step {out.error_step}: {error}", CaseTimeout
    except Exception as error:  # the implementation's own failure is a result, not a crash
        frame = traceback.extract_tb(error.__traceback__)[-1]
        out.error = (f"raised {type(error).__name__} at step {out.error_step}: {error} "
                     f"({frame.filename}:{frame.lineno})")
        out.error_type = type(error)
    return out
