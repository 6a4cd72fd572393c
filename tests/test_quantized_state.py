"""Quantized optimizer state (optgold.quantized): bitsandbytes' and torchao's 8-bit and 4-bit optimizers,
their state read back dequantized under torch's names and judged code by code, and mutants of it."""
import pytest

pytest.importorskip("bitsandbytes", reason="bitsandbytes is not installed (pip install optgold[quantized])")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from optgold import quantized  # noqa: E402
from optgold.adapters import TorchOptimizerAdapter  # noqa: E402
from optgold.check import check  # noqa: E402
from tests.quantized_mutants import blockwise, bnb_nearest  # noqa: E402

FAST = {"dtype": "float32", "modes": ("replay",), "contracts": "none"}
SMALL = {"min_8bit_size": 1}  # bitsandbytes keeps 32-bit state below 4096 elements; the cases hold 4 to 60

# measured failures of bitsandbytes 0.50.2 that are bitsandbytes', not quantization's: case: (why, words)
REFUSES_AMSGRAD = ("bitsandbytes refuses amsgrad=True with ValueError, not NotImplementedError", "raised ValueError")
KNOWN_BNB = {
    ("adam", "amsgrad_isotropic"): REFUSES_AMSGRAD,
    ("adam", "amsgrad_deep"): REFUSES_AMSGRAD,
    ("adam", "weight_decay_chained"): ("bitsandbytes' Adam applies weight decay decoupled (p *= 1 - lr * wd), as "
                                       "AdamW; its AdamW8bit passes adamw's decay cases", "params (one step"),
    ("adam", "groups_isotropic"): ("group 0's weight decay is decoupled, and its amsgrad=True ignored",
                                   "params (one step"),
    ("adamw", "amsgrad_isotropic"): REFUSES_AMSGRAD,
    ("adamw", "groups_rotated"): ("amsgrad=True in a param group is silently ignored: bitsandbytes checks it only "
                                  "as a constructor argument", "params (one step"),
}
BNB = [pytest.param(bnb_nearest.Adam8bit, "adam", id="Adam8bit-adam"),
       pytest.param(bnb_nearest.AdamW8bit, "adamw", id="AdamW8bit-adamw"),
       pytest.param(bnb_nearest.Lion8bit, "lion", id="Lion8bit-lion")]


def _judged(report):
    return [c for c in report.cases if c.status != "skipped"]


@pytest.mark.parametrize("cls, reference", BNB)
def test_bitsandbytes_8bit_optimizers_pass_with_a_nearest_quantizer(cls, reference):
    report = check(cls, reference, impl_args=SMALL, **FAST)
    for case in _judged(report):
        if (reference, case.id) in KNOWN_BNB:
            assert case.status == "failed" and KNOWN_BNB[(reference, case.id)][1] in case.message, case.message
        else:
            assert case.status == "passed", f"{case.id}: {case.message}"
            assert case.tolerance_used < 0.5 and "quantized state (bitsandbytes" in case.message
    assert any(c.status == "passed" for c in report.cases)


def test_the_cpu_kernels_own_quantizer_is_not_round_to_nearest():
    """bitsandbytes 0.50.2's CPU kernel finds codes with a BinSearch that resolves about 2^-15 of absmax
    (tests/quantized_mutants/bnb_nearest.py): stored codes that are not the nearest, named as that."""
    import bitsandbytes

    report = check(bitsandbytes.optim.Lion8bit, "lion", impl_args=SMALL, **FAST)
    failed = [c for c in report.cases if c.status == "failed"]
    assert failed and all("code (quantized state" in c.message and "an approximate search" in c.message
                          for c in failed), [c.message for c in failed]


def test_the_blockwise_base_passes():
    report = check(blockwise.BlockwiseAdam8bit, "adam", **FAST)
    assert report.passed and max(c.tolerance_used for c in _judged(report)) < 0.5
    assert "blocks of 4" in _judged(report)[0].message


@pytest.mark.parametrize("mutant, words", [
    (blockwise.AbsmaxOverBlocksOf8, ("absmax is over blocks of 8, not blocks of 4",
                                     "absmax is over the whole tensor")),  # a 6-element tensor: one block of 8
    (blockwise.AbsmaxOverTheWholeTensor, ("absmax is over the whole tensor, not blocks of 4",)),
    (blockwise.AbsmaxOneSlotLate, ("each block's absmax is held in the next block's slot",)),
    (blockwise.CodesRoundedDown, ("codes are rounded down",)),
    (blockwise.SignedMapForSecondMoment, ("codes index the signed dynamic map, not the unsigned map",)),
])
def test_quantization_mutants_are_caught_and_named(mutant, words):
    report = check(mutant, "adam", **FAST)
    judged = _judged(report)
    assert judged and all(c.status == "failed" and c.first_divergent_step == 1 for c in judged)
    assert all(any(w in c.message for w in words) for c in judged), [c.message for c in judged]
    assert any(words[0] in c.message for c in judged)


def test_the_state_reads_back_dequantized_under_torchs_names():
    shapes = [(300,), (3,)]
    start = np.linspace(-1, 1, 303)
    make = bnb_nearest.Adam8bit
    adapter = TorchOptimizerAdapter(make, {"lr": 0.01, "min_8bit_size": 100}, start, shapes, "float32", "cpu")
    adapter.step(np.cos(np.arange(303.0)))
    stored = adapter.quantized_state(("exp_avg", "exp_avg_sq"))
    big, small = stored["exp_avg"]
    assert small is None  # 3 elements, below min_8bit_size: 32-bit state
    assert big.block == 256 and len(big.absmax) == 2 and len(big.qmap) == 256 and big.signed
    assert not stored["exp_avg_sq"][0].signed  # the second moment's map is the unsigned one
    state = adapter.optimizer.state[adapter.params[0]]
    assert np.array_equal(adapter.flat_state(("exp_avg",))["exp_avg"][0],
                          (state["qmap1"][state["state1"].long()] * state["absmax1"].repeat_interleave(256)[:300])
                          .double().numpy())
    assert adapter.flat_state(("exp_avg",))["exp_avg"][1] is not None  # the 32-bit buffer, as it is


def test_every_library_has_a_reader():
    assert {"bitsandbytes", "torchao"} <= set(quantized.READERS)
    assert quantized.reader_for(torch.optim.Adam([torch.zeros(1)])) is None


@pytest.fixture
def eager(monkeypatch):
    """torchao torch.compiles its step (17 s and more on CPU, per tensor shape): run it eagerly."""
    pytest.importorskip("torchao", reason="torchao is not installed (pip install optgold[quantized])")
    monkeypatch.setenv("TORCHDYNAMO_DISABLE", "1")


@pytest.mark.parametrize("name", ["AdamW8bit", "AdamW4bit"])
def test_torchao_passes_with_its_bias_correction_in_float64(eager, name):
    from tests.quantized_mutants import torchao_small

    report = check(getattr(torchao_small, f"{name}Float64BiasCorrection"), "adamw", impl_args={"block_size": 4}, **FAST)
    assert report.passed and max(c.tolerance_used for c in _judged(report)) < 0.5
    assert any("quantized state (torchao" in c.message for c in _judged(report))


def test_torchao_computes_its_bias_correction_in_float32(eager):
    """torchao keeps the step count as a float32 tensor, so 1 - beta2 ** step is float32: with beta2 = 0.999,
    1 - float32(0.999) is off by 1.3e-5, and the step by 6e-6 relative, past float32's rounding of it."""
    from tests.quantized_mutants import torchao_small

    report = check(torchao_small.AdamW8bit, "adamw", impl_args={"block_size": 4}, **FAST)
    failed = {c.id for c in report.cases if c.status == "failed"}
    assert failed == {"decay_rotated", "eps_rosenbrock", "noisy", "deep"}  # beta2 = 0.999 for every tensor
    assert all(c.first_divergent_step == 1 and "params (one step" in c.message for c in report.cases if c.id in failed)
