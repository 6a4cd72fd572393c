"""How low-precision parameters take their update: the whole-trajectory drift bound (round to
nearest), stochastic rounding and Kahan summation (optgold.storage_drift, optgold.stochastic)."""
import pytest
import torch

from optgold.check import Options, check, validate
from optgold.kinds import optimizer
from optgold.reference.errors import UsageError
from tests.mutants import adam_mutants

FLOATING = (torch.float16, torch.bfloat16, torch.float32)


class AdamInFloat32(adam_mutants.Adam):
    """Adam computing each step in float32 from its bfloat16 params and state, storing the state back
    to nearest: the parameter's store is ``store``'s."""

    def update(self, p, grad, state, group):
        wide = {k: v.float() if torch.is_tensor(v) and v.dtype in FLOATING and v.dim() else v for k, v in state.items()}
        x = self.start(p, state)
        new = x.clone()
        super().update(new, grad.float(), wide, group)
        for k, v in wide.items():
            if torch.is_tensor(state.get(k)) and state[k].dim() and k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                state[k].copy_(v)
            elif k == "step":
                state[k] = v
        self.store(p, x, new, state)

    def start(self, p, state):
        return p.float()

    def store(self, p, x, new, state):
        p.copy_(new)


class AdamTruncating(AdamInFloat32):
    """Rounds its float32 result toward zero into bfloat16 (a cast by dropping the low bits)."""

    def store(self, p, x, new, state):
        p.copy_((new.view(torch.int32) & -65536).view(torch.float32))  # BUG: truncation, not rounding


class AdamStochasticRounding(AdamInFloat32):
    """Rounds its float32 result stochastically into bfloat16: random low bits added, then dropped,
    as torchao's bf16_stochastic_round does. Seeded, so that a test run is repeatable."""

    NOISE = (0, 1 << 16)

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.generator = torch.Generator().manual_seed(0)

    def store(self, p, x, new, state):
        noise = torch.randint(*self.NOISE, new.shape, dtype=torch.int32, generator=self.generator)
        p.copy_(((new.view(torch.int32) + noise) & -65536).view(torch.float32))


class StochasticRoundingBiased(AdamStochasticRounding):
    """Random bits from the middle half only: a value in the upper half of its cell always rounds up."""

    NOISE = (1 << 14, 3 << 14)  # BUG: the noise must cover the whole dropped range


class StochasticRoundingToNearest(AdamInFloat32):
    """Says it rounds stochastically and rounds to nearest: updates below half an ulp are lost."""

    def store(self, p, x, new, state):
        p.copy_(new)  # BUG: to nearest


class AdamKahan(AdamInFloat32):
    """Kahan-compensated bfloat16 parameters (optimi's kahan_sum): the compensation, itself kept in
    bfloat16, carries what each rounded addition lost, and joins the next update."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        state["kahan_comp"] = torch.zeros_like(p)

    def start(self, p, state):
        return p.float()

    def store(self, p, x, new, state):
        compensation = state["kahan_comp"]
        total = compensation.float() + (new - x)  # the update, with what earlier additions lost
        before = p.float()
        p.copy_(before + total)
        compensation.copy_(total - (p.float() - before))


class KahanCompensationNeverAdded(AdamKahan):
    """Keeps a compensation buffer and never adds it: naive bfloat16 accumulation."""

    def store(self, p, x, new, state):
        p.copy_(new)  # BUG: state["kahan_comp"] stays zero


class KahanCompensationHalved(AdamKahan):
    """Loses half of the compensation at every step (a leaking compensation)."""

    def store(self, p, x, new, state):
        super().store(p, x, new, state)
        state["kahan_comp"].mul_(0.5)  # BUG


def _failed(report):
    return [c for c in report.cases if c.status == "failed"]


def test_rounding_to_nearest_in_float32_passes_and_truncation_drifts():
    correct = check(AdamInFloat32, "adam", dtype="bfloat16", modes=("replay",))
    assert correct.passed and max(c.tolerance_used for c in correct.cases if c.status == "passed") < 0.5
    truncating = check(AdamTruncating, "adam", dtype="bfloat16", modes=("replay",))
    failed = _failed(truncating)
    # one ulp toward zero at a time is within each step's bound: only the whole trajectory shows it
    assert failed and all("whole trajectory" in c.message for c in failed), [c.message for c in failed]


def test_stochastic_rounding_passes_and_its_failures_are_named():
    correct = check(AdamStochasticRounding, "adam", dtype="bfloat16", rounding="stochastic", modes=("replay",))
    assert correct.passed, [c.message for c in _failed(correct)]
    assert all("rounded stochastically" in c.message for c in correct.cases if c.status == "passed")
    biased = _failed(check(StochasticRoundingBiased, "adam", dtype="bfloat16", rounding="stochastic",
                           modes=("replay",)))
    assert biased and all(c.message.startswith("biased stochastic rounding") for c in biased)
    nearest = _failed(check(StochasticRoundingToNearest, "adam", dtype="bfloat16", rounding="stochastic",
                            modes=("replay",)))
    assert nearest and all(c.message.startswith("stagnation:") for c in nearest)
    # the statistics, not a value: Poisson-binomial counts
    assert all("Poisson-binomial" in c.message for c in biased + nearest)


def test_kahan_summation_passes_and_naive_accumulation_fails():
    correct = check(AdamKahan, "adam", dtype="bfloat16", rounding="kahan", modes=("replay",))
    assert correct.passed and max(c.tolerance_used for c in correct.cases if c.status == "passed") < 0.5
    for mutant in (KahanCompensationNeverAdded, KahanCompensationHalved):
        failed = _failed(check(mutant, "adam", dtype="bfloat16", rounding="kahan", modes=("replay",)))
        assert failed and all("params" in c.message for c in failed), mutant
    # as plain rounding to nearest, Kahan's parameters are ordinary bfloat16 ones
    assert check(AdamKahan, "adam", dtype="bfloat16", modes=("replay",)).passed


def test_kahan_summation_needs_the_compensation_buffer():
    report = check(AdamInFloat32, "adam", dtype="bfloat16", rounding="kahan", modes=("replay",))
    failed = _failed(report)
    assert failed and all("exposes no compensation state 'kahan_comp'" in c.message for c in failed)


@pytest.mark.parametrize("fields, words", [
    ({"rounding": "stochastic"}, "how bfloat16 or float16 parameters take their update"),
    ({"rounding": "upward", "dtype": "bfloat16"}, "not one of nearest, stochastic, kahan"),
    ({"rounding": "kahan", "dtype": "bfloat16", "master_weights": "float32"}, "exclude each other"),
])
def test_rounding_settings_that_cannot_run_are_usage_errors(fields, words):
    with pytest.raises(UsageError, match=words):
        validate(Options(**fields), optimizer)


def test_torchaos_bf16_stochastic_round_passes(monkeypatch):
    """torchao's _AdamW(bf16_stochastic_round=True), run eagerly (it torch.compiles each tensor shape's step,
    17 s and more on CPU): the state to nearest, the params stochastically, each step computed in float32."""
    optim = pytest.importorskip("torchao.optim", reason="torchao is not installed (pip install optgold[quantized])")
    monkeypatch.setenv("TORCHDYNAMO_DISABLE", "1")
    report = check(optim._AdamW, "adamw", dtype="bfloat16", rounding="stochastic", modes=("replay",),
                   impl_args={"bf16_stochastic_round": True})
    assert report.passed and max(c.tolerance_used for c in report.cases if c.status == "passed") < 0.5
    # without stochastic rounding its parameters round to nearest: the bias test names the stagnation, or the
    # lost updates carry the trajectory past the spread of unbiased roundings first (2 cases whose updates
    # pass half an ulp stay within both)
    nearest = _failed(check(optim._AdamW, "adamw", dtype="bfloat16", rounding="stochastic", modes=("replay",)))
    assert sum(c.message.startswith("stagnation:") for c in nearest) >= 4
    assert all(c.message.startswith("stagnation:") or "whole trajectory" in c.message for c in nearest)
