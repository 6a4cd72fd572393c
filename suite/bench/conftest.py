"""pytest-benchmark hooks for suite/bench/step_benchmarks.py: optgold's machine info, read-only commit info."""
from optgold.bench import bandwidth, machine


def pytest_benchmark_update_machine_info(config, machine_info):
    ours = machine.optgold_info(machine_info.get("cpu") or {})
    ours["bandwidth"] = bandwidth.probe(machine.total_cache_bytes(ours["caches"]))
    machine_info["optgold"] = ours


def pytest_benchmark_generate_commit_info(config):
    return machine.commit_info()
