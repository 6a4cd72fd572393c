"""reference.muon computes what torch.optim.Muon computes (float64), and its variants differ.

torch.optim.Muon runs Newton-Schulz in bfloat16 (``grad.bfloat16()`` first), whatever the
parameter's dtype; the reference runs it in the parameter's precision, as the algorithm
states it. So the reference is compared with torch's own Muon whose Newton-Schulz
function is torch's source with that one cast removed (everything else is torch's code),
and, separately, torch as shipped is compared with the bfloat16_newton_schulz variant.

Agreement: max |ref - torch| <= 1e-12 * max |torch| per tensor and quantity. The
iteration amplifies rounding in directions of small singular value by up to a ~ 3.4 per
step, so ns_steps stays at 7 or fewer here (3.4^7 ~ 5e3 ulps).
"""
import inspect
import math
from unittest import mock

import numpy as np
import pytest
import torch
import torch.optim._muon as torch_muon
from hypothesis import given, settings
from hypothesis import strategies as st

from optgold.reference import muon, problems, trajectory

SHAPES = [(3, 4), (5, 2), (4, 4)]
RTOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)
LONG = settings(max_examples=30, deadline=None)
COEFFICIENTS = [muon.DEFAULTS["ns_coefficients"], (1.875, -1.25, 0.375), (1.5, -0.5, 0.0)]


def newton_schulz_without_bfloat16():
    """torch's _zeropower_via_newtonschulz, from its own source, without the bfloat16 cast."""
    source = inspect.getsource(torch_muon._zeropower_via_newtonschulz)
    assert source.count("grad.bfloat16()") == 1, "torch's Newton-Schulz changed: revisit this test"
    namespace = dict(vars(torch_muon))
    exec(source.replace("grad.bfloat16()", "grad.clone()"), namespace)
    return namespace["_zeropower_via_newtonschulz"]


IN_PARAM_DTYPE = newton_schulz_without_bfloat16()


def log_uniform(low, high):
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: 10.0 ** e)


@st.composite
def hyperparameters(draw):
    return dict(lr=draw(log_uniform(1e-4, 1.0)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
                momentum=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.99))), nesterov=draw(st.booleans()),
                ns_coefficients=draw(st.sampled_from(COEFFICIENTS)), eps=draw(log_uniform(1e-9, 10.0)),
                ns_steps=draw(st.integers(1, 7)),
                adjust_lr_fn=draw(st.sampled_from([None, "original", "match_rms_adamw"])))


@st.composite
def seeded_run(draw, steps):
    """Start point and per-step gradients from a seed, each tensor with its own magnitude."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    start = [rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)]
    grads = [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)]
    return start, grads


def run_reference(hp, start, grads, variant="torch"):
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [muon.init_state(len(t), hp, shape=s) for t, s in zip(tensors, SHAPES)]
    hist = {}
    for step_grads in grads:
        for i, (p, g, state, shape) in enumerate(zip(tensors, step_grads, states, SHAPES)):
            muon.step(p, [float(x) for x in g.ravel()], state, shape=shape, variant=variant, **hp)
            hist.setdefault(("params", i), []).append(list(p))
            hist.setdefault(("momentum_buffer", i), []).append(list(state["momentum_buffer"]))
    return {k: np.array(v) for k, v in hist.items()}


def run_torch(hp, start, grads):
    params = [torch.tensor(p, dtype=torch.float64) for p in start]
    opt = torch.optim.Muon(params, **hp)
    hist = {}
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        for i, p in enumerate(params):
            hist.setdefault(("params", i), []).append(p.flatten().tolist())
            hist.setdefault(("momentum_buffer", i), []).append(opt.state[p]["momentum_buffer"].flatten().tolist())
    return {k: np.array(v) for k, v in hist.items()}


def worst_relative(ref, tor):
    return max(np.abs(ref[k] - tor[k]).max() / np.abs(tor[k]).max() for k in tor)


def assert_agree(hp, start, grads):
    ref = run_reference(hp, start, grads)
    with mock.patch.object(torch_muon, "_zeropower_via_newtonschulz", IN_PARAM_DTYPE):
        tor = run_torch(hp, start, grads)
    for key, b in tor.items():
        err, scale = np.abs(ref[key] - b).max(), np.abs(b).max()
        assert err <= RTOL * scale, f"{key}: max abs diff {err:.3e}, scale {scale:.3e}"


@SETTINGS
@given(hyperparameters(), seeded_run(1))
def test_one_step_matches_torch(hp, run):
    assert_agree(hp, *run)


@LONG
@given(hyperparameters(), seeded_run(30))
def test_thirty_steps_match_torch(hp, run):
    assert_agree(hp, *run)


@pytest.mark.parametrize("seed", range(4))
def test_torch_as_shipped_is_the_bfloat16_variant(seed):
    """torch.optim.Muon's update carries bfloat16 rounding, far above float64's; the variant
    that rounds as torch does matches it bit for bit (on these runs) in float64."""
    rng = np.random.default_rng(seed)
    hp = dict(muon.DEFAULTS, lr=0.02, momentum=0.9, ns_steps=5 + seed % 2)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(20)]
    shipped = run_torch(hp, start, grads)
    assert worst_relative(run_reference(hp, start, grads, variant="bfloat16_newton_schulz"), shipped) <= RTOL
    assert worst_relative(run_reference(hp, start, grads), shipped) > 1e-4


# excites every variant: eps clamps ||M|| for part of the run, weight decay with a tall matrix
EXCITING = ("quadratic_matrices", dict(muon.DEFAULTS, lr=0.02, eps=20.0))


@pytest.mark.parametrize("variant", [v for v in muon.VARIANTS if v != "torch"])
def test_each_variant_differs_from_torch(variant):
    name, hp = EXCITING
    problem = problems.get(name)
    golden, grads, _ = trajectory.run(muon, problem, hp, 30)
    other, _, _ = trajectory.run(muon, problem, hp, 30, variant=variant, grads=grads)
    assert np.abs(np.array(other) - np.array(golden)).max() > 1e-4 * np.abs(np.array(golden)).max()
