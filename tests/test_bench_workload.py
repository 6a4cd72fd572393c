"""StepBench: fresh state before every step, memory shared between the sides of a comparison, the slowed wrapper."""
import torch

from optgold.bench.slowed import optimizer as slowed_optimizer
from optgold.bench.workload import StepBench


def stepped_params(bench):
    bench.setup()
    bench.step()
    return [p.detach().clone() for p in bench.params]


def test_fresh_state_restores_params_and_state_exactly():
    bench = StepBench(torch.optim.Adam, "tiny", {"weight_decay": 0.1}, {"foreach": True})
    bench.setup()
    bench.step()
    first = [p.detach().clone() for p in bench.params]
    for _ in range(3):
        bench.step()  # drift away
    bench.setup()
    bench.step()
    assert all(torch.equal(a, b) for a, b in zip(first, bench.params))


def test_slowed_wrapper_computes_what_it_wraps():
    plain = StepBench(torch.optim.Adam, "tiny", {}, {})
    slowed = StepBench(slowed_optimizer, "tiny", {}, {"inner": "torch.optim:Adam", "slowdown": 0.0})
    for bench in (plain, slowed):
        bench.setup()
        bench.step()
    assert all(torch.equal(a, b) for a, b in zip(plain.params, slowed.params))
    assert slowed.state_bytes() == plain.state_bytes()  # the wrapper exposes the inner state


def step_from_snapshot(snapshot, factory, **hp):
    """One step of a fresh optimizer put in the snapshot's params, grads and state."""
    params = [p.clone().requires_grad_(True) for p in snapshot.params]
    for p, g in zip(params, snapshot.grads):
        p.grad = g.clone()
    optimizer = factory(params, **hp)
    for p, state in zip(params, snapshot.state):
        optimizer.state[p] = {k: v.clone() if torch.is_tensor(v) else v for k, v in state.items()}
    optimizer.step()
    return [p.detach() for p in params]


def test_shared_memory_sides_step_the_same_tensors_and_still_compute_their_own_step():
    first = StepBench(torch.optim.Adam, "tiny", {}, {"foreach": False})
    second = StepBench(torch.optim.Adam, "tiny", {"weight_decay": 0.1}, {"foreach": False}, share_memory_with=first)
    assert second.params is first.params
    p = first.params[0]
    assert second.optimizer.state[p]["exp_avg"] is first.optimizer.state[p]["exp_avg"]
    # both start from the first side's snapshot, and each takes its own step from it
    expected_first = step_from_snapshot(first.snapshot, torch.optim.Adam, foreach=False)
    expected_second = step_from_snapshot(first.snapshot, torch.optim.Adam, foreach=False, weight_decay=0.1)
    for _ in range(2):  # alternating, as the timing does
        assert all(torch.equal(a, b) for a, b in zip(stepped_params(first), expected_first))
        assert all(torch.equal(a, b) for a, b in zip(stepped_params(second), expected_second))
    assert not torch.equal(expected_first[0], expected_second[0])


def test_state_of_another_shape_is_not_shared():
    first = StepBench(torch.optim.SGD, "tiny", {"momentum": 0.9}, {})
    second = StepBench(torch.optim.Adam, "tiny", {}, {}, share_memory_with=first)
    p = first.params[0]
    assert "momentum_buffer" not in second.optimizer.state[p]
    assert second.optimizer.state[p]["exp_avg"] is not first.optimizer.state[p]["momentum_buffer"]
    stepped_params(second)  # still steps
