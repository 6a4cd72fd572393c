"""The reference formulas run on whole tensors (golden/cifar/lanes.py) give bitwise the element loop's result."""
import random

import numpy as np
import pytest

from optgold import reference
from optgold.golden.cifar.lanes import Lanes

CONFIGS = {
    "sgd": [dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1),
            dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.05, maximize=True)],
    "adam": [dict(lr=0.01, amsgrad=True, weight_decay=0.1),
             dict(lr=0.01, eps=1e-3, maximize=True, weight_decay=0.2, decoupled_weight_decay=True)],
    "adamw": [dict(lr=0.01, amsgrad=True), dict(lr=0.01, eps=1e-3, maximize=True, weight_decay=0.2)],
}
CASES = [(name, variant, k) for name, configs in CONFIGS.items() for variant in reference.get(name).VARIANTS
         for k in range(len(configs))]


@pytest.mark.parametrize("name, variant, k", CASES, ids=[f"{n}-{v}-{k}" for n, v, k in CASES])
def test_lanes_equal_the_element_loop_bit_for_bit(name, variant, k):
    optimizer, rng = reference.get(name), random.Random(k)
    hp = {**optimizer.DEFAULTS, **CONFIGS[name][k]}
    shapes = [(3, 4), (5,)]
    tensors = [np.array([rng.gauss(0, 1) for _ in range(int(np.prod(s)))]).reshape(s) for s in shapes]
    flat = [t.reshape(-1).tolist() for t in tensors]
    states = [optimizer.init_state(len(p), hp) for p in flat]
    lanes = Lanes(optimizer, tensors, hp, variant)
    for t in range(25):
        step_hp = {**hp, "lr": hp["lr"] * (1 + t % 3)}  # an lr that changes, as under a schedule
        grads = [np.array([rng.gauss(0, 1) * 10 ** rng.uniform(-6, 1) for _ in range(x.size)]).reshape(x.shape)
                 for x in tensors]
        for p, g, state in zip(flat, grads, states):
            optimizer.step(p, g.reshape(-1).tolist(), state, variant=variant, **step_hp)
        lanes.step(grads, step_hp)
    expected = np.concatenate([np.array(p) for p in flat])
    assert expected.tobytes() == lanes.flat_params().tobytes()
    for state_name in lanes.state_names():
        assert np.concatenate([np.array(s[state_name]) for s in states]).tobytes() == \
            lanes.flat_state(state_name).tobytes()


def test_no_module_rebinds_builtins_in_the_references():
    """Lanes run the formulas as written: nothing is patched into the reference modules."""
    adam = reference.get("adam")
    before = dict(vars(adam))
    hp = {**adam.DEFAULTS, "amsgrad": True}
    Lanes(adam, [np.ones(3)], hp).step([np.ones(3)], hp)
    assert "max" not in vars(adam) and vars(adam).keys() == before.keys()
