"""The adamax reference computes what torch.optim.Adamax computes, and its variants do not.

Hypothesis draws hyperparameters, a start and gradients for tensors of several shapes;
the reference runs on Python floats, torch.optim.Adamax (foreach=False) in float64, on
the same gradients. Agreement: per tensor and quantity, over the run,
max |ref - torch| <= 1e-12 * max |torch|, plus DRIFT_FACTOR times how far the
reference itself moves when each parameter takes a one-ulp error per step: with
coupled weight decay p feeds back into the gradient and m / u amplifies rounding where
g + weight_decay * p nears zero (as tests/test_reference_vs_torch.py measured for Adam).
"""
import math
import random

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import adamax, problems, trajectory

SHAPES = [(3, 4), (5,), (2, 1, 3)]
RTOL, DRIFT_FACTOR = 1e-12, 32
SETTINGS = settings(max_examples=50, deadline=None)
element = st.floats(-1e3, 1e3, allow_subnormal=False).map(lambda x: 0.0 if abs(x) < 1e-100 else x)


def log_uniform(low, high):
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: 10.0 ** e)


@st.composite
def hyperparameters(draw):
    return dict(lr=draw(log_uniform(1e-4, 1.0)), betas=(draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
                eps=draw(log_uniform(1e-12, 1e-1)), weight_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
                maximize=draw(st.booleans()))


@st.composite
def runs(draw, steps):
    """(start, grads per step): drawn element by element for one step; from a seed, each tensor with its
    own magnitude, for more."""
    if steps == 1:
        def tensors():
            return [np.array(draw(st.lists(element, min_size=math.prod(s), max_size=math.prod(s)))).reshape(s)
                    for s in SHAPES]
        return tensors(), [tensors()]
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    return ([rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)],
            [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)])


def run_reference(hp, start, grads, variant="torch", perturb=None):
    """{quantity: per tensor, (rows, n) history}; ``perturb`` adds a one-ulp random error after each step."""
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [adamax.init_state(len(t), hp) for t in tensors]
    hist = {"params": [[list(t)] for t in tensors]}
    for step_grads in grads:
        for k, (p, g, state) in enumerate(zip(tensors, step_grads, states)):
            adamax.step(p, [float(x) for x in g.ravel()], state, variant=variant, **hp)
            if perturb:
                p[:] = [x + 2.0 ** -53 * abs(x) * perturb.choice((-1.0, 1.0)) for x in p]
            hist["params"][k].append(list(p))
            for name, value in state.items():
                if name != "step":
                    hist.setdefault(name, [[] for _ in tensors])[k].append(list(trajectory._flat(value)))
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}, states


def run_torch(hp, start, grads):
    params = [torch.tensor(p, dtype=torch.float64) for p in start]
    opt = torch.optim.Adamax(params, foreach=False, **hp)
    hist = {"params": [[p.flatten().tolist()] for p in params]}
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        for k, p in enumerate(params):
            hist["params"][k].append(p.flatten().tolist())
            for name, value in opt.state[p].items():
                if name != "step":
                    hist.setdefault(name, [[] for _ in params])[k].append(value.flatten().tolist())
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}, \
        [opt.state[p] for p in params]


def assert_matches_torch(hp, start, grads):
    ref, ref_states = run_reference(hp, start, grads)
    tor, tor_states = run_torch(hp, start, grads)
    assert set(ref) == set(tor), f"state names differ: {sorted(ref)} vs {sorted(tor)}"
    drift = {name: [0.0] * len(per_tensor) for name, per_tensor in ref.items()}
    for seed in (1, 2):
        moved, _ = run_reference(hp, start, grads, perturb=random.Random(seed))
        drift = {name: [max(d, np.abs(a - b).max()) for d, a, b in zip(drift[name], moved[name], ref[name])]
                 for name in ref}
    for name in ref:
        for k, (a, b) in enumerate(zip(ref[name], tor[name])):
            err, bound = np.abs(a - b).max(), RTOL * np.abs(b).max() + DRIFT_FACTOR * drift[name][k]
            assert err <= bound, f"{name}[tensor {k}]: max abs diff {err:.3e}, bound {bound:.3e}"
    assert all(rs["step"] == int(ts["step"]) == len(grads) for rs, ts in zip(ref_states, tor_states))


@SETTINGS
@given(hyperparameters(), runs(1))
def test_one_step_matches_torch(hp, run):
    assert_matches_torch(hp, *run)


@SETTINGS
@given(hyperparameters(), runs(30))
def test_thirty_steps_match_torch(hp, run):
    assert_matches_torch(hp, *run)


# each variant, on a case that excites it, moves the trajectory far above rounding
EXCITING = dict(adamax.DEFAULTS, lr=0.05, betas=(0.5, 0.9), eps=0.1, weight_decay=0.1, maximize=True)


def test_each_variant_differs_from_torch():
    problem = problems.get("rosenbrock_2d", negate=True)
    base = np.array(trajectory.run(adamax, problem, EXCITING, 30)[0])
    for variant in adamax.VARIANTS:
        moved = np.array(trajectory.run(adamax, problem, EXCITING, 30, variant=variant)[0])
        difference = np.abs(moved - base).max() / np.abs(base).max()
        assert (difference > 1e-6) == (variant != "torch"), (variant, difference)
