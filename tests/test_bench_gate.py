"""The regression gate on synthetic paired samples with known distributions (nothing is timed)."""
import numpy as np
import pytest
import scipy.stats

from optgold.bench import gate, selfcheck


def paired_log_ratios(rng, slowdown, pairs=60, noise=0.03):
    """log(IMPL/baseline) for pairs whose times are lognormal with a common per-pair drift."""
    drift = rng.normal(0, 0.2, pairs)  # the machine's state, shared by both sides of a pair
    impl = np.exp(drift + np.log1p(slowdown) + rng.normal(0, noise, pairs))
    base = np.exp(drift + rng.normal(0, noise, pairs))
    return np.log(impl / base)


@pytest.mark.parametrize("pairs", [7, 20, 41, 60])
def test_sign_test_is_scipys_quantile_test(pairs):
    rng = np.random.default_rng(pairs)
    for _ in range(20):
        x = rng.standard_t(3, pairs) * 0.05 + rng.normal(0, 0.02)
        p, median, low, high = gate.sign_test(x, 0.99)
        one_sided = scipy.stats.quantile_test(x, q=0, p=0.5, alternative="greater")
        interval = scipy.stats.quantile_test(x, q=0, p=0.5).confidence_interval(0.99)
        assert p == pytest.approx(one_sided.pvalue)
        assert median == pytest.approx(np.median(x))
        assert low == (-np.inf if np.isnan(interval.low) else interval.low)
        assert high == (np.inf if np.isnan(interval.high) else interval.high)


def test_holm_worked_example():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.06
    assert gate.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_on_a_subfamily_ignores_the_others():
    adjusted = gate.holm([[0.01, 0.04, 0.5]], members=[[True, True, False]])
    assert adjusted[0, :2] == pytest.approx([0.02, 0.04]) and np.isnan(adjusted[0, 2])


def test_flags_an_injected_ten_percent_slowdown():
    rng = np.random.default_rng(1)
    verdicts = gate.judge({"a": paired_log_ratios(rng, 0.10), "b": paired_log_ratios(rng, 0.0)})
    assert [v.failed for v in verdicts] == [True, False]
    assert verdicts[0].ratio_low < 1.10 < verdicts[0].ratio_high


def test_passes_an_a_a_run():
    rng = np.random.default_rng(2)
    verdicts = gate.judge({name: paired_log_ratios(rng, 0.0) for name in "abc"})
    assert not any(v.failed for v in verdicts)
    assert all(v.ratio_low < 1 < v.ratio_high for v in verdicts)


def test_a_faster_impl_passes():
    rng = np.random.default_rng(3)
    (verdict,) = gate.judge({"a": paired_log_ratios(rng, -0.5)})
    assert not verdict.failed and verdict.ratio < 0.6


def test_small_precisely_measured_slowdown_is_under_the_threshold():
    rng = np.random.default_rng(4)
    (verdict,) = gate.judge({"a": paired_log_ratios(rng, 0.01, pairs=200, noise=0.005)})
    assert verdict.slower and not verdict.reaches_threshold and not verdict.failed


def test_gate_false_alarms_at_most_alpha_over_many_a_a_families():
    rng = np.random.default_rng(5)
    runs = np.stack([np.stack([paired_log_ratios(rng, 0.0, pairs=30) for _ in range(3)]) for _ in range(2000)])
    failed, *_ = gate.failures(runs, threshold=0.05, alpha=0.01, confidence=0.99)
    assert failed.any(axis=1).mean() <= 0.01


def test_selfcheck_meets_the_goals_on_known_noise():
    rng = np.random.default_rng(6)
    rates = selfcheck.gate_rates([paired_log_ratios(rng, 0.0, pairs=60) for _ in range(3)], replications=2000)
    aa, five, ten = rates
    assert aa.exit_1 <= 0.01
    assert five.exit_1 >= 0.95 and ten.exit_1 >= 0.99


def test_selfcheck_power_falls_with_noise():
    rng = np.random.default_rng(7)
    quiet = selfcheck.gate_rates([paired_log_ratios(rng, 0.0, noise=0.02)], slowdowns=(0.05,), replications=1000)
    loud = selfcheck.gate_rates([paired_log_ratios(rng, 0.0, noise=0.2)], slowdowns=(0.05,), replications=1000)
    assert loud[0].exit_1 < quiet[0].exit_1


def test_too_few_pairs_cannot_be_significant():
    assert gate.smallest_p(6) > 0.01
    (verdict,) = gate.judge({"a": np.full(6, np.log(2.0))})  # every pair twice as slow, but only 6
    assert not verdict.failed


def test_a_lenient_confirming_rerun_raises_power_and_keeps_false_alarms_rare():
    rng = np.random.default_rng(8)
    noisy = [rng.laplace(0, 0.14, 100) for _ in range(2)]  # ~20% paired noise: the first run alone is unsure
    strict = selfcheck.gate_rates(noisy, replications=2000, confirm_alpha=0.01)
    lenient = selfcheck.gate_rates(noisy, replications=2000, confirm_alpha=0.05)
    assert lenient[1].exit_1 > strict[1].exit_1  # 5% slower caught more often
    assert lenient[0].exit_1 <= 0.002 and strict[0].exit_1 <= lenient[0].exit_1


def test_gate_run_fails_only_on_what_the_rerun_confirms():
    from optgold.bench.gaterun import GateRun

    def verdict(name, failed):
        return gate.Verdict(name, 60, 1.1, 1.0, 1.2, 0.001, 0.002, failed, True, failed)

    first = [verdict("a", True), verdict("b", True), verdict("c", False)]
    assert GateRun([], first, [verdict("a", True), verdict("b", False)]).failed == ["a"]
    assert GateRun([], first, []).failed == ["a", "b"]  # --no-confirm
    assert GateRun([], [verdict("a", False)], []).failed == []
