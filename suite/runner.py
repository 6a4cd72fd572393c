"""The conditions a case runs under: torch's default dtype set to the check's.

The runs themselves belong to their kinds (optgold.kinds); optgold.check drives them, in a
worker process whose time limits the parent enforces (optgold.isolation).
"""
from contextlib import contextmanager

import torch

DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
LOW = ("bfloat16", "float16")  # judged one step at a time (optgold.local); the optimizer kind's only


@contextmanager
def default_dtype(dtype):
    """Run with torch's default dtype set to the check's dtype (a name or a torch dtype), as a
    program in that precision does: state an implementation creates with the default dtype
    (torch's NAdam keeps mu_product so) then has the precision of the parameters. A contract may
    set another ("bfloat16": optgold.contracts.low_precision)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(DTYPES.get(dtype) or (getattr(torch, dtype) if isinstance(dtype, str) else dtype))
    try:
        yield
    finally:
        torch.set_default_dtype(previous)
