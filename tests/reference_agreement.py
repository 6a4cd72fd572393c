"""The hypothesis harness the tests/test_reference_<optimizer>.py files share: a reference runs
what a torch optimizer runs, and the two agree.

A reference module (``init_state(size, hp)``, ``step(param, grad, state, variant=..., **hp)``)
runs on Python floats; ``optimizer(params, **hp)`` (a torch.optim class, usually through
``functools.partial(cls, foreach=False)``, or a hand-written one) runs in float64 on the same
gradients. Each side gives a history: for params (the start included) and for every state
entry but "step" (one row per step), per tensor, a (rows, n) array; both sides must count
``len(grads)`` steps and have the same state names.

Agreement (``assert_matches``): for every quantity, per tensor (or, with ``per_tensor=False``,
over all tensors concatenated), over the whole run,

    max |ref - torch| <= rtol * max |torch| + drift_factor * drift,

where drift (only computed when ``drift_factor`` is not 0) is how far the reference itself
moves when each parameter (and, with ``perturb_state``, each state element) takes a one-ulp
error of random sign after each step, worst of two seeds. Each test file's docstring says why
its optimizer needs the bound it uses.
"""
import math
import random

import numpy as np
import torch
from hypothesis import strategies as st

from optgold.reference import trajectory

SHAPES = [(3, 4), (5,), (2, 1, 3)]
# one element: zero, or a float of magnitude 1e-100 .. 1e3 (no subnormal squares)
element = st.floats(-1e3, 1e3, allow_subnormal=False).map(lambda x: 0.0 if abs(x) < 1e-100 else x)


def log_uniform(low, high):
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: 10.0 ** e)


@st.composite
def seeded_run(draw, steps):
    """(start, grads per step) from a seed, each tensor with its own magnitude (mixed scales)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_scales = [10.0 ** draw(st.integers(-3, 2)) for _ in SHAPES]
    g_scales = [10.0 ** draw(st.integers(-6, 3)) for _ in SHAPES]
    return ([rng.standard_normal(s) * k for s, k in zip(SHAPES, p_scales)],
            [[rng.standard_normal(s) * k for s, k in zip(SHAPES, g_scales)] for _ in range(steps)])


@st.composite
def runs(draw, steps):
    """(start, grads per step): drawn element by element for one step; ``seeded_run`` for more."""
    if steps == 1:
        def tensors():
            return [np.array(draw(st.lists(element, min_size=math.prod(s), max_size=math.prod(s)))).reshape(s)
                    for s in SHAPES]
        return tensors(), [tensors()]
    return draw(seeded_run(steps))


def run_reference(reference, hp, start, grads, variant="torch", perturb=None, perturb_state=False):
    """{quantity: per tensor, (rows, n) history}; ``perturb`` (a random.Random) adds a one-ulp error of
    random sign to every parameter (with ``perturb_state``, every state element too) after each step."""
    tensors = [[float(x) for x in p.ravel()] for p in start]
    states = [reference.init_state(len(t), hp) for t in tensors]
    hist = {"params": [[list(t)] for t in tensors]}
    for step_grads in grads:
        for k, (p, g, state) in enumerate(zip(tensors, step_grads, states)):
            reference.step(p, [float(x) for x in g.ravel()], state, variant=variant, **hp)
            if perturb:
                for values in [p] + ([v for v in state.values() if isinstance(v, list)] if perturb_state else []):
                    values[:] = [x + 2.0 ** -53 * abs(x) * perturb.choice((-1.0, 1.0)) for x in values]
            hist["params"][k].append(list(p))
            for name, value in state.items():
                if name != "step":
                    hist.setdefault(name, [[] for _ in tensors])[k].append(list(trajectory.state_values(value)))
    assert all(s["step"] == len(grads) for s in states)
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}


def run_torch(optimizer, hp, start, grads, default_dtype=None):
    """The same history from ``optimizer(params, **hp)`` on float64 tensors; ``default_dtype``: torch's
    default dtype while it runs (some optimizers keep scalar state in it)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(default_dtype or previous)
    try:
        params = [torch.tensor(p, dtype=torch.float64) for p in start]
        opt = optimizer(params, **hp)
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
        assert all(int(opt.state[p]["step"]) == len(grads) for p in params)
    finally:
        torch.set_default_dtype(previous)
    return {name: [np.array(rows) for rows in per_tensor] for name, per_tensor in hist.items()}


def concatenated(hist):
    """A history with each quantity's tensors side by side: {quantity: [(rows, total n)]}."""
    return {name: [np.concatenate(per_tensor, axis=1)] for name, per_tensor in hist.items()}


def assert_matches(reference, optimizer, hp, start, grads, *, rtol, drift_factor=0, per_tensor=True,
                   perturb_state=False, variant="torch", default_dtype=None):
    """The agreement of the module docstring, for one drawn run."""
    layout = (lambda hist: hist) if per_tensor else concatenated
    ref = layout(run_reference(reference, hp, start, grads, variant))
    tor = layout(run_torch(optimizer, hp, start, grads, default_dtype))
    assert set(ref) == set(tor), f"state names differ: {sorted(ref)} vs {sorted(tor)}"
    drift = {name: [0.0] * len(per_tensor) for name, per_tensor in ref.items()}
    for seed in (1, 2) if drift_factor else ():
        moved = layout(run_reference(reference, hp, start, grads, variant, random.Random(seed), perturb_state))
        drift = {name: [max(d, np.abs(a - b).max()) for d, a, b in zip(drift[name], moved[name], ref[name])]
                 for name in ref}
    for name in ref:
        for k, (a, b) in enumerate(zip(ref[name], tor[name])):
            err, scale = np.abs(a - b).max(), np.abs(b).max()
            bound = rtol * scale + drift_factor * drift[name][k]
            where = f"[tensor {k}]" if per_tensor else ""
            assert err <= bound, f"{name}{where}: max abs diff {err:.3e}, scale {scale:.3e}, bound {bound:.3e}"
