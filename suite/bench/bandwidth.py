"""A STREAM-style memory bandwidth probe in torch: copy, triad, and an in-place update.

Run in the same process and with the same torch thread count as the benchmarks, so
that "fraction of measured bandwidth" compares like with like. Each array is at
least 4x the machine's total cache (STREAM's rule), so the probe measures memory,
not cache. Bytes are counted as STREAM counts them: copy moves 2 arrays (c = a),
triad 3 (a = b + s*c), and the in-place update 3 (a += s*b).

Why the third kernel: copy and triad write to an array they do not read, and on a
CPU without streaming stores each written line is first read (write-allocate), so
they move more than STREAM counts, and report less than the memory delivers. An
optimizer step updates its arrays in place, reading every line it writes, exactly
as ``a += s*b`` does. On the 2-core EPYC VM this was written on, one thread, copy
and triad gave 27-28 GB/s and the in-place update 33-43 GB/s; fused Adam on 16.8M
parameters moved 34.6 GB/s by its byte model. The machine's bandwidth is the best
of the three. A step can still show a little over 100%: the fresh-state restore
before each timed step leaves up to a last-level cache of its arrays in cache.
"""
import time

import torch

MIN_ARRAY_BYTES = 64 << 20
COPY_ARRAYS, TRIAD_ARRAYS, UPDATE_ARRAYS = 2, 3, 3


def array_bytes(total_cache_bytes):
    """Bytes per probe array: 4x the total cache, at least 64 MiB."""
    return max(4 * (total_cache_bytes or 0), MIN_ARRAY_BYTES)


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _best_seconds(kernel, repeats, device):
    kernel()  # first touch: page faults are not bandwidth
    best = float("inf")
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        kernel()
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def probe(total_cache_bytes, repeats=10, device="cpu"):
    """Best-of-``repeats`` bandwidth of each kernel in GB/s (1e9 bytes), float32 arrays; ``best_gbps`` is the max."""
    device = torch.device(device)
    n = array_bytes(total_cache_bytes) // 4
    a = torch.ones(n, device=device)
    b = torch.full((n,), 2.0, device=device)
    c = torch.zeros(n, device=device)
    seconds = {
        "copy": _best_seconds(lambda: c.copy_(a), repeats, device),
        "triad": _best_seconds(lambda: torch.add(b, c, alpha=3.0, out=a), repeats, device),
        "update": _best_seconds(lambda: a.add_(b, alpha=1e-9), repeats, device),
    }
    arrays = {"copy": COPY_ARRAYS, "triad": TRIAD_ARRAYS, "update": UPDATE_ARRAYS}
    gbps = {f"{kernel}_gbps": arrays[kernel] * 4 * n / s / 1e9 for kernel, s in seconds.items()}
    return {**gbps, "best_gbps": max(gbps.values()), "array_bytes": 4 * n, "repeats": repeats,
            "threads": torch.get_num_threads(), "device": str(device)}
