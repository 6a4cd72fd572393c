"""bitsandbytes' 8-bit optimizers, their state quantized to the nearest code.

bitsandbytes 0.50.2's CPU kernel quantizes float32 state with a BinSearch lookup that resolves
no finer than about 2^-15 of absmax: 2% of random values get a code that is not the nearest (up
to 2.9e-5 of absmax further), and every value below about 1.6e-5 of absmax gets the same code
(7 of the unsigned map, 131 of the signed, whatever its sign). Its default (pure torch) backend,
like its CUDA kernels, rounds to the nearest code. These classes run bitsandbytes' own step with
that quantizer, so what optgold.quantized judges is the rest of its arithmetic.
"""
from contextlib import contextmanager
from unittest import mock

import bitsandbytes
import torch
from bitsandbytes.backends.cpu import ops as cpu_ops

_COMPOSITE = torch._C.DispatchKeySet(torch._C.DispatchKey.CompositeExplicitAutograd)


def _quantize_nearest(values, code, absmax_out, out, blocksize):
    codes, absmax = torch.ops.bitsandbytes.quantize_blockwise.default.redispatch(_COMPOSITE, values, code, blocksize)
    out.copy_(codes)
    absmax_out.copy_(absmax)


@contextmanager
def nearest_quantizer():
    """The CPU kernel's state quantizer replaced by bitsandbytes' default backend's (round to nearest)."""
    with mock.patch.object(cpu_ops, "_quant_blockwise_fp32_direct", _quantize_nearest):
        yield


def with_nearest_quantizer(cls):
    class Nearest(cls):
        def update_step(self, *args):
            with nearest_quantizer():
                super().update_step(*args)

    Nearest.__name__ = Nearest.__qualname__ = f"{cls.__name__}Nearest"
    return Nearest


Adam8bit = with_nearest_quantizer(bitsandbytes.optim.Adam8bit)
AdamW8bit = with_nearest_quantizer(bitsandbytes.optim.AdamW8bit)
Lion8bit = with_nearest_quantizer(bitsandbytes.optim.Lion8bit)
