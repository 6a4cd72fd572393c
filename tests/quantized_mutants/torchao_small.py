"""torchao's AdamW8bit and AdamW4bit on small tensors.

torchao quantizes a state buffer only for tensors of 4096 elements or more whose size the block
size divides (AdamBase._new_buffer), and has no argument for that threshold; the golden cases'
tensors hold 4 to 60 elements. These classes drop the 4096 (nothing else): a tensor whose size
the block size divides gets quantized state, the others keep torchao's plain state.
"""
from contextlib import contextmanager
from unittest import mock

import torch
import torchao.optim
from torchao.optim import adam as torchao_adam


def without_size_threshold(cls):
    class Small(cls):
        def _new_buffer(self, p, signed):
            if p.numel() % self.block_size == 0:
                return self._subclass_zeros(p, signed, self.block_size)
            return torch.zeros_like(p)

    Small.__name__ = Small.__qualname__ = f"{cls.__name__}Small"
    return Small


AdamW8bit = without_size_threshold(torchao.optim.AdamW8bit)
AdamW4bit = without_size_threshold(torchao.optim.AdamW4bit)


@contextmanager
def bias_correction_in_float64():
    """torchao's single_param_adam given its step count as float64: its bias corrections
    1 - beta ** step are then computed in float64, not float32."""
    original = torchao_adam.single_param_adam

    def step_in_float64(p, grad, step, *rest):
        return original(p, grad, step.double(), *rest)

    with mock.patch.object(torchao_adam, "single_param_adam", step_in_float64):
        yield


def with_bias_correction_in_float64(cls):
    class Float64BiasCorrection(cls):
        def step(self, closure=None):
            with bias_correction_in_float64():
                return super().step(closure)

    Float64BiasCorrection.__name__ = Float64BiasCorrection.__qualname__ = f"{cls.__name__}Float64BiasCorrection"
    return Float64BiasCorrection


AdamW8bitFloat64BiasCorrection = with_bias_correction_in_float64(AdamW8bit)
AdamW4bitFloat64BiasCorrection = with_bias_correction_in_float64(AdamW4bit)
