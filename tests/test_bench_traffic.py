"""The byte model, the bandwidth arithmetic, and what a StepBench measures (memory, never time)."""
import pytest
import torch

from optgold import reference
from optgold.bench import bandwidth, memory, traffic
from optgold.bench.workload import StepBench, hyperparameters
from optgold.loading import load_impl
from optgold.reference import capabilities


def bytes_for(ref_name, dtype="float32", **overrides):
    return traffic.bytes_per_param(ref_name, hyperparameters(ref_name, overrides)[0], dtype)


def test_issue_figures_adam_28_and_sgd_momentum_20_bytes_per_param_in_fp32():
    assert bytes_for("adam") == 28
    assert bytes_for("adamw") == 28
    assert bytes_for("sgd", momentum=0.9) == 20


def test_flags_that_add_or_remove_arrays():
    assert bytes_for("sgd") == 12  # no momentum: read p, g; write p
    assert bytes_for("adam", amsgrad=True) == 36  # max_exp_avg_sq read and written
    assert bytes_for("rmsprop", momentum=0.9, centered=True) == 4 * (3 + 2 * 3)
    assert bytes_for("lamb") == 4 * (7 + 3)  # second pass re-reads p, m, v


def test_flags_that_change_only_arithmetic_leave_traffic_alone():
    assert bytes_for("sgd", momentum=0.9, nesterov=True, dampening=0.0, weight_decay=0.1, maximize=True) == 20
    assert bytes_for("adam", weight_decay=0.1, maximize=True, decoupled_weight_decay=True) == 28


def test_element_size_scales_the_model():
    assert bytes_for("adam", "float64") == 56
    assert bytes_for("adam", "bfloat16") == 14


def test_no_model_for_sparse_or_closure_steps():
    assert traffic.bytes_per_param("sparse_adam", {}) is None
    with pytest.raises(NotImplementedError, match="no traffic model"):
        traffic.streams("lbfgs", {})


def test_model_state_arrays_are_the_state_torch_keeps():
    for name, module in reference.OPTIMIZERS.items():
        if not capabilities.of(module).torch or not traffic.has_model(name):
            continue
        for overrides in ({}, {"momentum": 0.9}, {"amsgrad": True}, {"centered": True}):
            if not set(overrides) <= set(module.DEFAULTS):
                continue
            full, passed = hyperparameters(name, overrides)
            bench = StepBench(load_impl(capabilities.of(module).torch), "tiny", passed, {})
            kept = {k for k, v in bench.optimizer.state[bench.params[0]].items()
                    if torch.is_tensor(v) and v.shape == bench.params[0].shape}
            assert kept == set(traffic.state_arrays(name, full)), (name, overrides)


def test_achieved_bandwidth_arithmetic():
    # 28 B/param x 1M params in 1 ms = 28 GB/s; against 56 GB/s measured, half the roofline
    gbps = traffic.achieved_gbps(28, 1_000_000, 1e-3)
    assert gbps == pytest.approx(28.0)
    assert traffic.fraction_of_bandwidth(gbps, 56.0) == pytest.approx(0.5)


def test_probe_counts_stream_bytes(monkeypatch):
    monkeypatch.setattr(bandwidth, "MIN_ARRAY_BYTES", 4 << 20)
    monkeypatch.setattr(bandwidth, "_best_seconds", lambda kernel, repeats, device: 0.5)
    result = bandwidth.probe(total_cache_bytes=1 << 20, repeats=1)
    n = result["array_bytes"] // 4
    assert result["array_bytes"] == 4 << 20  # 4x the cache, at least the minimum
    assert result["copy_gbps"] == pytest.approx(2 * 4 * n / 0.5 / 1e9)  # copy: read a, write c
    assert result["triad_gbps"] == pytest.approx(3 * 4 * n / 0.5 / 1e9)  # triad: read b, c, write a
    assert result["update_gbps"] == pytest.approx(3 * 4 * n / 0.5 / 1e9)  # in place: read a, b, write a
    assert result["best_gbps"] == result["triad_gbps"]


def test_probe_arrays_are_four_times_the_cache():
    assert bandwidth.array_bytes(34 << 20) == 136 << 20
    assert bandwidth.array_bytes(None) == bandwidth.MIN_ARRAY_BYTES


def test_state_bytes_and_resident_memory_of_adam():
    bench = StepBench(torch.optim.Adam, "tiny", {}, {})
    n = bench.params_count
    step_counters = sum(4 for _ in bench.params)  # one float32 0-d "step" per tensor
    assert bench.state_bytes() == 8 * n + step_counters
    peak = memory.step_peak(bench)
    assert peak["resident_bytes"] == 16 * n + step_counters  # params, grads, exp_avg, exp_avg_sq
    assert peak["transient_bytes"] is not None and peak["transient_bytes"] >= 0
    assert peak["peak_bytes"] == peak["resident_bytes"] + peak["transient_bytes"]
