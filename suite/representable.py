"""The values a storage dtype can hold around a number: its neighbours and their spacing."""
import numpy as np
import torch

from optgold.runner import DTYPES


def neighbours(x, dtype):
    """(down, up): the largest ``dtype`` value <= x and the smallest >= x (both x where it is one)."""
    exact = torch.as_tensor(np.asarray(x, dtype=np.float64))
    nearest = exact.to(DTYPES[dtype])
    wide = nearest.double()
    down = torch.where(wide > exact, torch.nextafter(nearest, torch.full_like(nearest, -float("inf"))), nearest)
    up = torch.where(wide < exact, torch.nextafter(nearest, torch.full_like(nearest, float("inf"))), nearest)
    return down.double().numpy(), up.double().numpy()


def ulp(x, dtype):
    """The spacing of ``dtype`` values above |x| (rounded into the dtype)."""
    size = torch.as_tensor(np.abs(np.asarray(x, dtype=np.float64))).to(DTYPES[dtype])
    return (torch.nextafter(size, torch.full_like(size, float("inf"))).double() - size.double()).numpy()
