"""What a benchmark ran on, and at which commit: stored with every result so history compares like with like.

The machine info is pytest-benchmark's (so its own tools read our files) plus an
``optgold`` block: torch version and thread count, CPU model, cache sizes, and the
bandwidth probe of the same job.
"""
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import torch

SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")


def _sysfs_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def _cpu_list_size(text):
    count = 0
    for part in text.strip().split(","):
        first, _, last = part.partition("-")
        count += int(last or first) - int(first) + 1
    return count


def caches(cpu=None):
    """Data and unified caches, per level: size of one instance, instances, and total bytes.

    Read from Linux sysfs, which reports the hardware. ``cpu`` (py-cpuinfo's dict) is
    the fallback only, because on some virtual machines py-cpuinfo reports the L2 size
    as the L3.
    """
    found = {}
    if SYSFS_CACHE.is_dir():
        cpus = os.cpu_count() or 1
        for index in sorted(SYSFS_CACHE.glob("index*")):
            if (index / "type").read_text().strip() == "Instruction":
                continue
            level = f"L{(index / 'level').read_text().strip()}"
            size = _sysfs_size((index / "size").read_text())
            instances = max(1, cpus // _cpu_list_size((index / "shared_cpu_list").read_text()))
            found[level] = {"bytes": size, "instances": instances, "total_bytes": size * instances}
    if not found:
        for level, key in (("L1", "l1_data_cache_size"), ("L2", "l2_cache_size"), ("L3", "l3_cache_size")):
            if (cpu or {}).get(key):
                found[level] = {"bytes": cpu[key], "instances": None, "total_bytes": cpu[key]}
    return found


def total_cache_bytes(cache_info):
    return sum(level["total_bytes"] for level in cache_info.values())


def _cuda_info(device):
    props = torch.cuda.get_device_properties(torch.device(device))
    l2 = {"bytes": props.L2_cache_size, "instances": 1, "total_bytes": props.L2_cache_size}
    return {"model": props.name, "caches": {"L2": l2}}


def optgold_info(cpu, device="cpu"):
    """The ``optgold`` block: torch version and threads, device, model and caches (``cpu``: py-cpuinfo's dict)."""
    hardware = (_cuda_info(device) if device.startswith("cuda") else
                {"model": cpu.get("brand_raw") or platform.processor(), "caches": caches(cpu)})
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": device, **hardware,
            "cpus": os.cpu_count(), "load_average": _load_average()}


def _load_average():
    """1-minute load average when the run started: other work on the machine contends for cores and memory."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def contended(info):
    """More runnable work than CPUs before we start: timings will include waiting for a core."""
    return info.get("load_average") is not None and info["load_average"] >= (info.get("cpus") or 1)


def machine_info(device="cpu"):
    """pytest-benchmark's machine info plus the ``optgold`` block; the caller adds the bandwidth probe.

    Takes about a second: py-cpuinfo runs cpuid in a subprocess.
    """
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

    info = pytest_benchmark_generate_machine_info()
    info["optgold"] = optgold_info(info.get("cpu") or {}, device)
    return info


def _git(*args):
    # Read-only queries; GIT_OPTIONAL_LOCKS=0 stops `git status` from refreshing the index.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True, env=env).stdout.strip()


def commit_info():
    """pytest-benchmark's commit_info fields, from read-only git queries ("unversioned" outside git)."""
    try:
        return {
            "id": _git("rev-parse", "HEAD"),
            "time": _git("show", "-s", "--format=%cI", "HEAD"),
            "author_time": _git("show", "-s", "--format=%aI", "HEAD"),
            "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "project": Path(_git("rev-parse", "--show-toplevel")).name,
            "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        }
    except (OSError, subprocess.CalledProcessError):
        return {"id": "unversioned", "time": None, "author_time": None, "dirty": False,
                "project": Path.cwd().name, "branch": "(unknown)"}


def now():
    return datetime.now(timezone.utc).isoformat()
