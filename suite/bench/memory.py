"""Peak memory during one optimizer step: what it holds (params, grads, state) plus its temporaries.

On CUDA the caching allocator's peak counter says it. On CPU torch keeps no such
counter, so the step runs once under the profiler with memory recording, and the
temporaries' peak is the running sum of its allocation (+) and free (-) events. The
measured step is separate from the timed ones: profiling slows a step down.
"""
import contextlib
import os
import sys

import torch


@contextlib.contextmanager
def _native_stderr_silenced():
    """Kineto logs "profiler_start/stop" lines from C++ straight to file descriptor 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _cpu_transient_peak(step):
    from torch.profiler import ProfilerActivity, profile

    with _native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    try:  # kineto's raw events are the only place the profiler keeps allocations in order
        events = prof.profiler.kineto_results.events()
        changes = sorted((e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]")
    except AttributeError:
        return None
    held = peak = 0
    for _, nbytes in changes:
        held += nbytes
        peak = max(peak, held)
    return peak


def _cuda_transient_peak(step, device):
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def step_peak(bench):
    """{"resident_bytes", "transient_bytes", "peak_bytes"} of one step of a StepBench; None where unknown."""
    bench.setup()
    if bench.device.type == "cuda":
        transient = _cuda_transient_peak(bench.step, bench.device)
    else:
        transient = _cpu_transient_peak(bench.step)
    resident = bench.resident_bytes()
    return {"resident_bytes": resident, "transient_bytes": transient,
            "peak_bytes": None if transient is None else resident + transient}
