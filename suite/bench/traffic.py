"""Compulsory memory traffic of one optimizer step, and the bandwidth it implies.

An optimizer step streams a few parameter-sized arrays through memory: it reads the
parameters, the gradients and the state, and writes back the parameters and the
state. Counting each array once per step (as STREAM does: no write-allocate, no
temporaries) gives the least traffic any implementation can have, so

    achieved GB/s = bytes/param x params / step time

is a lower bound on what the step moved, and its fraction of the machine's measured
bandwidth says how close the step is to the memory roofline.

    SGD                  read p, g          write p          3 arrays (12 B/param in fp32)
    SGD + momentum       read p, g, buf     write p, buf     5 arrays (20 B/param)
    Adam / AdamW         read p, g, m, v    write p, m, v    7 arrays (28 B/param)
    ... + amsgrad        also read/write max_v               9 arrays (36 B/param)

Weight decay, dampening, Nesterov and maximize change the arithmetic, not the arrays.
The state arrays are the reference's own per-element buffers, under torch's names
(reference.capabilities.buffer_names); tests/test_capabilities.py checks them against
the state torch.optim actually keeps. LAMB needs two passes (its trust ratio
needs tensor norms before the update can be applied), so p, m and v are read twice.
"""
from dataclasses import dataclass

from optgold import reference
from optgold.reference import capabilities

DTYPE_BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2}


@dataclass(frozen=True)
class Streams:
    """Parameter-sized arrays read and written once per step."""
    read: tuple
    written: tuple

    @property
    def arrays(self):
        return len(self.read) + len(self.written)


def state_arrays(ref_name, hp):
    """The state arrays (torch's names) one step reads and writes: the reference's per-element buffers."""
    return capabilities.buffer_names(reference.get(ref_name), hp)


SECOND_PASS = {"lamb": ("param", "exp_avg", "exp_avg_sq")}  # re-read after the norms are known


def streams(ref_name, hp):
    """The arrays one step of ``ref_name`` must move, given its hyperparameters."""
    if not has_model(ref_name):
        models = ", ".join(name for name in reference.OPTIMIZERS if has_model(name))
        raise NotImplementedError(f"no traffic model for {ref_name!r} (sparse, closure-driven or shape-dependent "
                                  f"steps are not streams of dense arrays); models: {models}")
    state = state_arrays(ref_name, hp)
    return Streams(read=("param", "grad") + state + SECOND_PASS.get(ref_name, ()), written=("param",) + state)


def has_model(ref_name):
    """Whether one step is streams of dense arrays (an unknown name raises UnknownReference)."""
    caps = capabilities.of(reference.get(ref_name))
    return not (caps.closure or caps.sparse_gradients or caps.uses_shape)


def bytes_per_param(ref_name, hp, dtype="float32"):
    """Compulsory bytes moved per parameter per step: arrays x element size; None without a model."""
    if not has_model(ref_name):
        return None
    return streams(ref_name, hp).arrays * DTYPE_BYTES[dtype]


def achieved_gbps(bytes_per_param, params, seconds):
    """Bytes the model says were moved, per second, in GB/s (1e9 bytes)."""
    return bytes_per_param * params / seconds / 1e9


def fraction_of_bandwidth(gbps, measured_gbps):
    """Share of the machine's measured bandwidth; 1.0 is the memory roofline."""
    return gbps / measured_gbps
