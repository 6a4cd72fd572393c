"""Timed optimizer steps, IMPL and baseline interleaved in the same process.

Each round is pedantic: an untimed ``setup()`` restores fresh state, then one step is
timed. IMPL and baseline alternate within each pair, and which goes first alternates
between pairs (AB, BA, AB, ...), so that drift in the machine (frequency, a
neighbour's load, the page cache) falls on both sides equally and cancels in the
paired ratio.
"""
import gc
import time

import numpy as np


def timed_step(bench):
    """Seconds for one step from fresh state; the garbage collector is kept out of the timing."""
    bench.setup()
    bench.synchronize()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        bench.step()
        bench.synchronize()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def interleaved(benches, pairs, warmup=2, on_round=None):
    """Step times per bench, shape (len(benches), pairs); pair i runs in order, pair i+1 reversed.

    ``warmup`` untimed pairs come first (allocator, caches, lazy initialisation).
    ``on_round()`` is called after each timed pair (progress).
    """
    for _ in range(warmup):
        for bench in benches:
            timed_step(bench)
    times = np.empty((len(benches), pairs))
    for i in range(pairs):
        order = range(len(benches)) if i % 2 == 0 else reversed(range(len(benches)))
        for k in order:
            times[k, i] = timed_step(benches[k])
        if on_round:
            on_round()
    return times
