"""The conditions a case runs under: a time limit, and torch's default dtype set to the check's.

The runs themselves belong to their kinds (optgold.kinds); optgold.check drives them.
"""
import signal
import threading
from contextlib import contextmanager

import torch

DTYPES = {"float64": torch.float64, "float32": torch.float32}


class CaseTimeout(Exception):
    pass


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
    """Run with torch's default dtype set to the check's dtype (a name or a torch dtype), as a
    program in that precision does: state an implementation creates with the default dtype
    (torch's NAdam keeps mu_product so) then has the precision of the parameters."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(DTYPES.get(dtype, dtype))
    try:
        yield
    finally:
        torch.set_default_dtype(previous)
