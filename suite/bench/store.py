"""Benchmark history on disk, in pytest-benchmark's storage format.

``optgold bench --save`` and ``pytest suite/bench/step_benchmarks.py
--benchmark-autosave`` both write ``DIR/<machine id>/NNNN_<commit>_<time>.json``
files with ``machine_info``, ``commit_info`` and one entry per benchmark (stats plus
the raw step times in seconds). ``pytest-benchmark compare`` reads them as they are;
``optgold history`` reads them back as one series per benchmark and machine.
"""
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

log = logging.getLogger("optgold.bench")


def machine_key(info):
    """Results are comparable when CPU model, thread count and device agree."""
    ours = info.get("optgold", {})
    model = ours.get("model") or info.get("cpu", {}).get("brand_raw") or info.get("processor") or "?"
    return f"{model}, {ours.get('threads', '?')} threads, {ours.get('device', 'cpu')}"


def _storage(directory, machine_id=None):
    from pytest_benchmark.storage.file import FileStorage

    return FileStorage(directory, log, default_machine_id=machine_id)


def benchmark_entry(name, group, times, extra_info, options):
    """One benchmark as pytest-benchmark writes it, with its raw data."""
    from pytest_benchmark.stats import Stats

    stats = Stats()
    for seconds in times:
        stats.update(float(seconds))
    return {"group": group, "name": name, "fullname": f"optgold::{name}", "params": {"workload": group},
            "param": group, "extra_info": extra_info, "options": options,
            "stats": {**stats.as_dict(), "data": [float(t) for t in times]}}


def save_run(directory, machine_info, commit_info, benchmarks, when=None):
    """Append one run; returns the file written."""
    from pytest_benchmark import __version__
    from pytest_benchmark.utils import get_machine_id

    when = when or datetime.now(timezone.utc)
    storage = _storage(directory, get_machine_id())
    tag = "_".join([commit_info["id"], when.strftime("%Y%m%d_%H%M%S")] +
                   (["uncommitted-changes"] if commit_info.get("dirty") else []))
    before = set(storage.query())
    storage.save({"machine_info": machine_info, "commit_info": commit_info, "benchmarks": benchmarks,
                  "datetime": when.isoformat(), "version": __version__}, tag)
    (written,) = set(storage.query()) - before
    return written


@dataclass
class Point:
    """One stored run of one benchmark."""
    commit: str
    when: str
    median: float
    q1: float
    q3: float
    rounds: int
    dirty: bool = False
    torch: str = ""
    source: str = ""


@dataclass
class Series:
    benchmark: str
    machine: str
    points: list = field(default_factory=list)

    @property
    def medians(self):
        return np.array([p.median for p in self.points])


def _when(run):
    text = run.get("datetime") or ""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)


def load_series(directory):
    """Every stored benchmark as a Series per (benchmark name, machine), oldest run first."""
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"no benchmark storage at {str(directory)!r}; run `optgold bench ... --save` "
                                f"or `pytest suite/bench/step_benchmarks.py --benchmark-autosave` first")
    runs = sorted(((_when(data), str(path), data) for path, data in _storage(directory).load()),
                  key=lambda item: (item[0], item[1]))
    series = {}
    for _, source, run in runs:
        machine = machine_key(run.get("machine_info", {}))
        commit = run.get("commit_info", {})
        torch_version = run.get("machine_info", {}).get("optgold", {}).get("torch", "")
        for bench in run.get("benchmarks", []):
            stats = bench["stats"]
            point = Point(commit.get("id", "unversioned"), run.get("datetime", ""), stats["median"], stats["q1"],
                          stats["q3"], stats["rounds"], bool(commit.get("dirty")), torch_version, source)
            key = (bench.get("fullname") or bench["name"], machine)
            series.setdefault(key, Series(*key)).points.append(point)
    return list(series.values())


def slug(text):
    """A file name for a benchmark/machine pair."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:120]
