"""The reference is generic over the number type, and its named variants are real alternatives.

The same formulas run on float and on mpmath.mpf at 50 digits; the two runs agree to
float64 accuracy on well-conditioned cases. Each variant, on a case that excites it,
moves the trajectory far above rounding, except the one documented equal to torch at
constant lr (SGD nesterov_lr_in_velocity), which matches in params and differs in state.
"""
import mpmath
import pytest

from optgold import reference
from optgold.reference import arith, problems, sgd, trajectory

DIGITS = 50
PROBLEM = "quadratic_rotated_10d"
# hyperparameters that excite every term and every variant (maximize with weight decay, large eps, ...)
EXCITING = {
    "sgd": dict(lr=0.01, momentum=0.9, dampening=0.5, weight_decay=0.1, maximize=True),
    "sgd/nesterov": dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True),
    "adam": dict(lr=0.01, eps=1e-2, weight_decay=0.5, maximize=True),
    "adamw": dict(lr=0.01, eps=1e-2, weight_decay=0.5, maximize=True),
}
SGD_NESTEROV_VARIANTS = {"nesterov_lr_in_velocity"}
# a variant whose term the common setting hides: the float32 bias correction moves sqrt(v_hat) by 8.5e-6 relative,
# which eps = 1e-2 outweighs and lr = 0.01 keeps below 1e-6 over 30 steps
EXCITING_VARIANT = {("adam", "float32_bias_correction"): dict(eps=1e-8, lr=0.1),
                    ("adamw", "float32_bias_correction"): dict(eps=1e-8, lr=0.1)}


def hp_for(ref_name, variant):
    key = "sgd/nesterov" if ref_name == "sgd" and variant in SGD_NESTEROV_VARIANTS else ref_name
    return {**reference.get(ref_name).DEFAULTS, **EXCITING[key], **EXCITING_VARIANT.get((ref_name, variant), {})}


def run(ref_name, hp, steps=30, num=float, variant="torch"):
    problem = problems.get(PROBLEM, negate=hp["maximize"])
    if num is float:
        return trajectory.run(reference.get(ref_name), problem, hp, steps, variant=variant)
    with mpmath.workdps(DIGITS):
        return trajectory.run(reference.get(ref_name), problem, hp, steps, num=num, variant=variant)


def rel_diff(rows_a, rows_b):
    """max |a - b| over the run, relative to max |b|."""
    err = max(abs(a - b) for ra, rb in zip(rows_a, rows_b) for a, b in zip(ra, rb))
    return float(err / max(abs(b) for rb in rows_b for b in rb))


ALL_VARIANTS = [(name, v) for name in ("sgd", "adam", "adamw") for v in reference.get(name).VARIANTS]


def test_sqrt_keeps_mpmath_precision():
    with mpmath.workdps(DIGITS):
        root = arith.sqrt(mpmath.mpf(2))
        assert isinstance(root, mpmath.mpf)
        assert abs(root * root - 2) < mpmath.mpf(10) ** -(DIGITS - 2)
    assert arith.sqrt(2.0) == 2.0 ** 0.5 and isinstance(arith.sqrt(2.0), float)


@pytest.mark.parametrize("ref_name,variant", ALL_VARIANTS, ids=[f"{n}-{v}" for n, v in ALL_VARIANTS])
def test_mpf_run_stays_mpf_and_agrees_with_float(ref_name, variant):
    hp = hp_for(ref_name, variant)
    params64, _, states64 = run(ref_name, hp, variant=variant)
    params_mp, grads_mp, states_mp = run(ref_name, hp, num=mpmath.mpf, variant=variant)
    values = [x for rows in (params_mp[1:], grads_mp, *states_mp.values()) for row in rows for x in row]
    assert all(isinstance(x, mpmath.mpf) for x in values), "a float leaked into the mpmath run"
    with mpmath.workdps(DIGITS):
        assert any(mpmath.mpf(float(x)) != x for x in params_mp[-1]), "mpf run carries no more than float64"
    assert rel_diff(params64, params_mp) < 1e-12
    for name in states64:
        assert rel_diff(states64[name], states_mp[name]) < 1e-12, name


def test_adam_replay_on_rosenbrock_agrees_in_mpf():
    """A nonlinear problem, as the certificate runs it: replay the float gradients at 50 digits."""
    hp = {**reference.get("adam").DEFAULTS, "lr": 0.01, "eps": 1e-3}
    problem = problems.get("rosenbrock_2d")
    params64, grads64, _ = trajectory.run(reference.get("adam"), problem, hp, 100)
    with mpmath.workdps(DIGITS):
        params_mp, _, _ = trajectory.run(reference.get("adam"), problem, hp, 100, num=mpmath.mpf, grads=grads64)
    assert rel_diff(params64, params_mp) < 1e-12


@pytest.mark.parametrize("ref_name,variant", [(n, v) for n, v in ALL_VARIANTS
                                              if v != "torch" and (n, v) != ("sgd", "nesterov_lr_in_velocity")])
def test_variant_differs_from_torch_when_excited(ref_name, variant):
    hp = hp_for(ref_name, variant)
    torch_params = run(ref_name, hp)[0]
    assert rel_diff(run(ref_name, hp, variant=variant)[0], torch_params) > 1e-6


def test_nesterov_lr_in_velocity_equals_torch_at_constant_lr_with_velocity_in_buffer():
    hp = hp_for("sgd", "nesterov_lr_in_velocity")
    params_t, _, states_t = run("sgd", hp)
    params_v, _, states_v = run("sgd", hp, variant="nesterov_lr_in_velocity")
    assert rel_diff(params_v, params_t) < 1e-12
    # the buffer holds the velocity v = -lr * b
    scaled = [[-hp["lr"] * b for b in row] for row in states_t["momentum_buffer"]]
    assert rel_diff(states_v["momentum_buffer"], scaled) < 1e-12


def test_nesterov_lr_in_velocity_differs_from_torch_when_lr_changes():
    hp = hp_for("sgd", "nesterov_lr_in_velocity")
    problem = problems.get(PROBLEM, negate=True)
    runs = {}
    for variant in ("torch", "nesterov_lr_in_velocity"):
        p, state = list(problem.start), sgd.init_state(len(problem.start), hp)
        for t in range(20):
            sgd.step(p, problem.gradient(p, t), state, **{**hp, "lr": 0.01 if t < 10 else 0.001}, variant=variant)
        runs[variant] = p
    assert rel_diff([runs["nesterov_lr_in_velocity"]], [runs["torch"]]) > 1e-6
