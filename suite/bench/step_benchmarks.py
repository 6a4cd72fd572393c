"""torch.optim's steps under pytest-benchmark: pedantic mode, fresh state before every round.

    pytest suite/bench/step_benchmarks.py --benchmark-autosave --benchmark-storage=.benchmarks

One benchmark per reference (Adam; SGD with momentum), torch path (forloop, foreach,
fused) and workload. Results land in the storage ``optgold history`` reads, with the
machine info of suite/bench/conftest.py (torch, threads, CPU, caches, bandwidth
probe). The test suite does not collect this file (its testpaths are tests/).
"""
import pytest

from optgold.bench import traffic
from optgold.bench.shapes import DEFAULT_WORKLOADS
from optgold.bench.workload import StepBench, hyperparameters
from optgold.torch_paths import PATH_ARGS as PATHS

ROUNDS, WARMUP_ROUNDS = 30, 3
OPTIMIZERS = {"adam": ("torch.optim:Adam", {}), "sgd": ("torch.optim:SGD", {"momentum": 0.9})}


@pytest.mark.parametrize("workload", DEFAULT_WORKLOADS)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("ref_name", OPTIMIZERS)
def test_step(benchmark, ref_name, path, workload):
    from optgold.loading import load_impl

    spec, overrides = OPTIMIZERS[ref_name]
    full_hp, passed_hp = hyperparameters(ref_name, overrides)
    bench = StepBench(load_impl(spec), workload, passed_hp, PATHS[path])
    benchmark.group = f"{ref_name}[{workload}]"
    benchmark.extra_info.update(reference=ref_name, impl=spec, impl_args=PATHS[path], params=bench.params_count,
                                bytes_per_param=traffic.bytes_per_param(ref_name, full_hp),
                                state_bytes_per_param=bench.state_bytes() / bench.params_count)
    benchmark.pedantic(bench.step, setup=bench.setup, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS, iterations=1)
