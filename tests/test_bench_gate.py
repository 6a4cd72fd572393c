"""The regression gate on synthetic paired samples with known distributions (nothing is timed)."""
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats

from optgold.bench import gate, gaterun, selfcheck, sequential

LEVELS = gate.Levels.split(0.01, 3)


def paired_log_ratios(rng, slowdown, pairs=60, noise=0.03):
    """log(IMPL/baseline) for pairs whose times are lognormal with a common per-pair drift."""
    drift = rng.normal(0, 0.2, pairs)  # the machine's state, shared by both sides of a pair
    impl = np.exp(drift + np.log1p(slowdown) + rng.normal(0, noise, pairs))
    base = np.exp(drift + rng.normal(0, noise, pairs))
    return np.log(impl / base)


def verdict(log_ratios, threshold=0.02):
    return gate.judge("w", log_ratios, threshold, LEVELS, looks=1).verdict


@pytest.mark.parametrize("n", [6, 10, 25, 60, 333])
def test_critical_counts_are_scipys_sign_test(n):
    for level in (LEVELS.slower, LEVELS.not_slower, 0.05):
        c = int(gate.critical_count(n, level))
        # c pairs on the wrong side still reject; c + 1 do not
        if c >= 0:
            assert scipy.stats.binomtest(c, n, 0.5, alternative="less").pvalue < level
        assert scipy.stats.binomtest(c + 1, n, 0.5, alternative="less").pvalue >= level


def test_the_printed_interval_is_exactly_the_two_tests():
    rng = np.random.default_rng(0)
    for _ in range(300):
        r = paired_log_ratios(rng, rng.uniform(-0.03, 0.06), pairs=int(rng.integers(10, 200)), noise=0.03)
        code = int(gate.classify(len(r), *gate.counts(r, 0.02), LEVELS))
        low, high = gate.bounds(r, LEVELS)
        assert (code == gate.NOT_SLOWER) == (high < 1.02)
        assert (code == gate.SLOWER) == (low > 1 and high >= 1.02)


def test_a_clear_slowdown_is_slower():
    v = gate.judge("w", paired_log_ratios(np.random.default_rng(1), 0.10, pairs=100), 0.02, LEVELS, looks=1)
    assert v.verdict == "slower" and v.ratio_low > 1 and "significantly slower" in v.reason


def test_clear_equality_is_not_slower():
    v = gate.judge("w", paired_log_ratios(np.random.default_rng(2), 0.0, pairs=200, noise=0.01), 0.02, LEVELS, 1)
    assert v.verdict == "not slower" and v.ratio_high < 1.02 and "upper end" in v.reason


def test_a_faster_impl_is_not_slower():
    assert verdict(paired_log_ratios(np.random.default_rng(3), -0.5)) == "not slower"


@pytest.mark.parametrize("log_ratios", [np.full(6, np.log(2.0)), np.full(6, np.log(0.5))], ids=["slow", "fast"])
def test_too_few_pairs_are_inconclusive_however_clear_they_look(log_ratios):
    assert verdict(log_ratios) == "inconclusive"


def test_noisy_pairs_are_inconclusive():
    assert verdict(paired_log_ratios(np.random.default_rng(4), 0.0, pairs=40, noise=0.3)) == "inconclusive"


def test_a_small_precisely_measured_slowdown_is_not_slower():
    v = gate.judge("w", paired_log_ratios(np.random.default_rng(5), 0.005, pairs=300, noise=0.005), 0.02, LEVELS, 1)
    assert v.ratio_low > 1  # significantly slower, but shown within the threshold
    assert v.verdict == "not slower"


def test_the_old_rule_would_pass_what_it_could_not_measure():
    # the case: a 10% slowdown measured as 1.092 [0.995, 1.182] passed, being "not shown slower"
    rng = np.random.default_rng(6)
    r = np.log(1.10) + rng.laplace(0, 0.12, 30)
    p_slower = scipy.stats.binomtest(int((r > 0).sum()), len(r), 0.5, alternative="greater").pvalue
    old_rule_passes = p_slower >= LEVELS.slower
    assert old_rule_passes
    assert verdict(r) == "inconclusive"


def test_exit_verdict_needs_every_workload_not_slower():
    N, S, I = gate.NOT_SLOWER, gate.SLOWER, gate.INCONCLUSIVE
    assert gate.exit_verdict([[N, N, N], [N, I, N], [I, S, N], [S, N, N]]).tolist() == [N, I, S, S]


# the sequential loop, vectorized over simulated runs

def noise_sampler(replications, workloads, shift, threshold=0.02, price=0.01, seed=0, scale=0.05):
    """sequential.run's ``sample`` for laplace noise around log(1 + shift), ``price`` seconds per pair."""
    rng = np.random.default_rng(seed)

    def sample(add, is_open):
        most = int(add.max()) if add.size else 0
        r = np.log1p(shift) + rng.laplace(0, scale, (replications, workloads, max(most, 1)))
        taken = np.arange(r.shape[-1])[None, None, :] < add[:, None, None]
        below = ((r <= 0) & taken).sum(axis=-1)
        above = ((r >= np.log1p(threshold)) & taken).sum(axis=-1)
        return below, above, np.where(is_open, add[:, None] * price, 0.0)

    return sample


def simulate(shift, replications=4000, budget=1e9, levels=LEVELS, seed=0, scale=0.05):
    return sequential.run(noise_sampler(replications, 3, shift, seed=seed, scale=scale), replications, 3, 20,
                          levels, budget)


def test_alpha_spending_keeps_a_a_false_alarms_under_alpha_over_every_look():
    outcome = simulate(0.0)
    assert (outcome.looks.max() == gate.LOOKS) or (outcome.stopped == sequential.ALL_JUDGED).all()
    assert (outcome.verdicts == gate.SLOWER).mean() <= 0.01


def test_without_the_split_over_looks_false_alarms_exceed_alpha():
    # the same sampling judged at alpha / workloads at every look: the check above would catch it
    naive = gate.Levels(0.01 / 3, 0.01)
    outcome = simulate(0.0, levels=naive, scale=0.5)  # loud noise: nothing is decided early, every look is taken
    assert (outcome.verdicts == gate.SLOWER).mean() > 0.01


def test_a_slowdown_of_the_threshold_passes_at_most_alpha():
    outcome = simulate(0.02, scale=0.03)
    assert (outcome.verdicts == gate.NOT_SLOWER).mean() <= 0.01
    assert (outcome.verdicts == gate.SLOWER).mean() >= 0.95


def test_sampling_stops_at_the_budget_and_ends_inconclusive():
    price, budget = 0.01, 3.0  # 3 workloads at 0.01 s per pair: 100 pairs each while all are open
    outcome = sequential.run(noise_sampler(200, 3, 0.0, price=price, scale=2.0), 200, 3, 20, LEVELS, budget)
    assert (outcome.seconds <= budget + 1e-9).all()
    assert np.allclose(outcome.seconds, outcome.pairs.sum(axis=1) * price)
    spent = outcome.stopped == sequential.BUDGET_SPENT
    assert spent.mean() >= 0.95  # the rest: a rare false alarm, within alpha
    assert (outcome.seconds[spent] > 0.9 * budget).all() and (outcome.verdicts[spent] == gate.INCONCLUSIVE).all()


def test_the_first_look_runs_whatever_the_budget():
    outcome = sequential.run(noise_sampler(5, 2, 0.0, price=1.0), 5, 2, 20, LEVELS, budget=0.5)
    assert (outcome.pairs == 20).all() and (outcome.looks == 1).all()


def test_looks_grow_geometrically_and_are_bounded():
    looks = sequential.schedule(20)
    assert len(looks) == gate.LOOKS and looks[0] == 20 and looks == sorted(set(looks))
    assert looks[-1] == pytest.approx(20 * sequential.GROWTH ** (gate.LOOKS - 1), rel=0.02)


# the real gate's loop with a fake measurement

class FakeBench:
    """Pairs with a given shift and noise; each pair advances a fake clock by ``price`` seconds."""

    def __init__(self, shifts, noise, price, seed=0):
        self.shifts, self.noise, self.price, self.now = shifts, noise, price, 0.0
        self.rng, self.calls = np.random.default_rng(seed), []

    def clock(self):
        return self.now

    def batch(self, workload, pairs):
        self.calls.append((workload, pairs))
        self.now += pairs * self.price
        return SimpleNamespace(log_ratios=np.log1p(self.shifts[workload]) + self.rng.laplace(0, self.noise, pairs))


def fake_run(shifts, noise, budget, price=0.01):
    fake = FakeBench(shifts, noise, price)
    settings = gaterun.Settings("adam", ({}, {}), threshold=0.02, budget=budget)
    return gaterun.run(list(shifts), sides=None, settings=settings, batch=fake.batch, clock=fake.clock), fake


def test_gate_run_decides_an_a_a_run_not_slower():
    outcome, _ = fake_run({"a": 0.0, "b": 0.0, "c": 0.0}, noise=0.01, budget=120)
    assert outcome.verdict == "not slower" and outcome.slower == []


def test_gate_run_stops_once_a_workload_is_slower():
    outcome, fake = fake_run({"a": 0.0, "b": 0.10, "c": 0.0}, noise=0.05, budget=120)
    assert outcome.verdict == "slower" and outcome.slower == ["b"]
    assert all(v.verdict == "inconclusive" and "another workload is slower" in v.reason
               for v in outcome.verdicts if v.benchmark == "a" and not v.not_slower)


def test_gate_run_on_noise_it_cannot_resolve_ends_inconclusive_within_budget():
    outcome, fake = fake_run({"a": 0.0, "b": 0.0}, noise=1.0, budget=5.0)
    assert outcome.verdict == "inconclusive"
    assert fake.now <= 5.0 and outcome.seconds == pytest.approx(fake.now)
    assert all("budget spent" in v.reason for v in outcome.verdicts)
    assert [p for _, p in fake.calls[:2]] == [20, 20]  # the first look, then more pairs per look
    assert max(p for _, p in fake.calls[2:]) > 0


def test_a_machine_that_slows_down_is_priced_as_it_is_now():
    fake = FakeBench({"a": 0.0, "b": 0.0}, noise=1.0, price=0.001)
    measure = fake.batch

    def batch(workload, pairs):  # ten times slower from the third look on
        fake.price = 0.001 if len(fake.calls) < 4 else 0.01
        return measure(workload, pairs)

    settings = gaterun.Settings("adam", ({}, {}), threshold=0.02, budget=5.0)
    outcome = gaterun.run(["a", "b"], None, settings, batch=batch, clock=fake.clock)
    assert outcome.verdict == "inconclusive" and 4.5 < fake.now <= 5.0


def test_a_decided_workload_leaves_the_sampling():
    fake = FakeBench({"quiet": 0.0, "loud": 0.0}, 0.0, 0.01)
    fake.noise = {"quiet": 0.002, "loud": 0.03}
    fake.batch = lambda w, pairs: (fake.calls.append((w, pairs)), SimpleNamespace(
        log_ratios=fake.rng.laplace(0, fake.noise[w], pairs)))[1]
    settings = gaterun.Settings("adam", ({}, {}), threshold=0.02, budget=120)
    outcome = gaterun.run(["quiet", "loud"], None, settings, batch=fake.batch, clock=fake.clock)
    pairs = {v.benchmark: v.pairs for v in outcome.verdicts}
    assert outcome.verdict == "not slower" and pairs["quiet"] == 20 < pairs["loud"]
    assert pairs == {w: sum(p for name, p in fake.calls if name == w) for w in pairs}


# the self-check: the same loop on resampled noise

def test_selfcheck_meets_the_goals_on_known_noise():
    rng = np.random.default_rng(7)
    noise = [paired_log_ratios(rng, 0.0, pairs=200, noise=0.015) for _ in range(3)]
    aa, two, five = selfcheck.gate_rates(noise, [0.05, 0.1, 0.2], replications=1000, threshold=0.02)
    assert aa.exit_1 <= 0.01 and aa.exit_0 >= 0.95
    assert two.exit_1 >= 0.95 and two.exit_0 <= 0.01 and five.exit_1 >= 0.99
    assert aa.median_seconds <= 120


def test_selfcheck_power_falls_with_noise():
    rng = np.random.default_rng(8)
    quiet = selfcheck.gate_rates([paired_log_ratios(rng, 0.0, noise=0.02)], [0.05], (0.02,), 1000, threshold=0.02)
    loud = selfcheck.gate_rates([paired_log_ratios(rng, 0.0, noise=0.2)], [0.05], (0.02,), 1000, threshold=0.02)
    assert loud[0].exit_1 < quiet[0].exit_1 and loud[0].exit_3 > quiet[0].exit_3


def test_selfcheck_respects_the_budget():
    rng = np.random.default_rng(9)
    loud = [paired_log_ratios(rng, 0.0, noise=0.5) for _ in range(2)]
    (aa,) = selfcheck.gate_rates(loud, [0.1, 0.1], (0.0,), 300, threshold=0.02, budget=10)
    assert aa.exit_3 > 0.9 and aa.median_seconds <= 10


def test_the_command_and_the_gate_run_share_the_default_threshold():
    from optgold.commands.bench import THRESHOLD

    assert gaterun.Settings.threshold == THRESHOLD


def test_gate_check_quotes_clopper_pearson_and_order_statistic_intervals():
    from optgold.bench import gate_check

    assert gate_check.proportion(0, 7) == "0/7 = 0% (95% CI 0%-41%)"  # 1 - 0.025 ** (1/7) = 0.410
    assert gate_check.proportion(7, 7) == "7/7 = 100% (95% CI 59%-100%)"
    median, low, high = gate_check.median_interval(np.arange(1.0, 21.0))  # n = 20: the 6th and 15th values
    assert (median, low, high) == (10.5, 6.0, 15.0)
    assert np.isnan(gate_check.median_interval([1.0, 2.0])[1])  # too few for any interval
