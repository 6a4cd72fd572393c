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
State arrays carry torch's state names; tests/test_bench_traffic.py checks them
against the state torch.optim actually keeps. LAMB needs two passes (its trust ratio
needs tensor norms before the update can be applied), so p, m and v are read twice.
"""
from dataclasses import dataclass

from optgold import reference

DTYPE_BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2}


@dataclass(frozen=True)
class Streams:
    """Parameter-sized arrays read and written once per step."""
    read: tuple
    written: tuple

    @property
    def arrays(self):
        return len(self.read) + len(self.written)


def _when(flag, *names):
    return names if flag else ()


# Per reference: the state arrays (torch's names) one step reads and writes, given the hyperparameters.
STATE_ARRAYS = {
    "sgd": lambda hp: _when(hp.get("momentum", 0.0) != 0.0, "momentum_buffer"),
    "adam": lambda hp: ("exp_avg", "exp_avg_sq") + _when(hp.get("amsgrad"), "max_exp_avg_sq"),
    "adamw": lambda hp: ("exp_avg", "exp_avg_sq") + _when(hp.get("amsgrad"), "max_exp_avg_sq"),
    "nadam": lambda hp: ("exp_avg", "exp_avg_sq"),
    "radam": lambda hp: ("exp_avg", "exp_avg_sq"),
    "adamax": lambda hp: ("exp_avg", "exp_inf"),
    "adadelta": lambda hp: ("square_avg", "acc_delta"),
    "adagrad": lambda hp: ("sum",),
    "asgd": lambda hp: ("ax",),
    "rmsprop": lambda hp: ("square_avg",) + _when(hp.get("momentum", 0.0) != 0.0, "momentum_buffer")
    + _when(hp.get("centered"), "grad_avg"),
    "rprop": lambda hp: ("prev", "step_size"),
    "lion": lambda hp: ("exp_avg",),
    "lamb": lambda hp: ("exp_avg", "exp_avg_sq"),
}
SECOND_PASS = {"lamb": ("param", "exp_avg", "exp_avg_sq")}  # re-read after the norms are known


def streams(ref_name, hp):
    """The arrays one step of ``ref_name`` must move, given its hyperparameters."""
    reference.get(ref_name)  # an unknown name raises UnknownReference
    if ref_name not in STATE_ARRAYS:
        raise NotImplementedError(f"no traffic model for {ref_name!r} (sparse or closure-driven steps are not "
                                  f"streams of dense arrays); models: {', '.join(sorted(STATE_ARRAYS))}")
    state = STATE_ARRAYS[ref_name](hp)
    return Streams(read=("param", "grad") + state + SECOND_PASS.get(ref_name, ()), written=("param",) + state)


def has_model(ref_name):
    return ref_name in STATE_ARRAYS


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
