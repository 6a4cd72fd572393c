"""A golden its own reference does not reproduce is refused as corrupt, never used to blame an implementation.

Each tampering below goes through store.write, so the manifest's sha256 matches the changed
file and only the walk by the reference (golden/verify.py) can tell.
"""
import math
import shutil
import sys

import numpy as np
import pytest

from optgold import reference
from optgold.cli import main
from optgold.golden import load, schedules, store, verify
from optgold.golden.grid import GRID
from optgold.reference import problems, trajectory

PACKAGED = store.PACKAGED_DIR
FILES = ["MANIFEST.json", "adam.npz", "sgd.npz", "lbfgs.npz", "lamb.npz", "schedule_step_lr.npz",
         "schedule_cosine_annealing_lr.npz"]


@pytest.fixture
def goldens(tmp_path):
    """A golden folder with copies of some packaged goldens and the whole manifest."""
    target = tmp_path / "goldens"
    target.mkdir()
    for name in FILES:
        shutil.copyfile(PACKAGED / name, target / name)
    return target


def rewrite(directory, name, change):
    """Change one golden's content through store.write: its manifest hash matches what was written."""
    meta, arrays = store.read(directory, name)
    arrays = {key: value.copy() for key, value in arrays.items()}
    change(meta, arrays)
    store.write(directory, {name: (meta, arrays)}, store.read_manifest(directory)["generator_version"], merge=True)
    assert store.read(directory, name)  # the hash check alone passes


def case_meta(meta, cid):
    return next(m for m in meta["cases"] if m["id"] == cid)


def scale(key, index, factor):
    def change(meta, arrays):
        arrays[key][index] *= factor
    return change


def refusal(directory, ref_name, cid, words, loader=load.load_cases):
    """The GoldenError that loading gives: one line naming the file, the case, ``words`` and the rebuild command."""
    with pytest.raises(store.GoldenError) as raised:
        loader(ref_name, directory)
    message = str(raised.value)
    assert "\n" not in message
    assert f":{cid}: " in message and words in message, message
    assert message.endswith(f"regenerate with `{store.rebuild_command(directory)}`")
    return message


# -- what every golden must pass -------------------------------------------------------------------

@pytest.fixture
def unwalked(monkeypatch):
    """No file counts as walked in this process yet: loading walks each again."""
    monkeypatch.setattr(verify, "_verified", set())


@pytest.mark.parametrize("ref_name", sorted(GRID))
def test_every_packaged_optimizer_golden_is_reproduced_by_its_reference(unwalked, ref_name):
    assert load.load_cases(ref_name)
    assert len(verify._verified) == 1


def test_every_packaged_scheduler_golden_is_reproduced_by_its_reference(unwalked):
    for name in schedules.GRID:
        assert schedules.load_cases(name)
    assert len(verify._verified) == len(schedules.GRID)


def test_untampered_copies_load(goldens):
    assert [c.id for c in load.load_cases("adam", goldens)] == [c.id for c in load.load_cases("adam")]
    assert len(load.load_cases("lbfgs", goldens)) == len(load.load_cases("lbfgs"))
    assert len(schedules.load_cases("step_lr", goldens)) == len(schedules.load_cases("step_lr"))


# -- optimizer goldens: each stored array, and the inputs in meta ----------------------------------

def test_a_changed_param_is_refused_at_its_step(goldens):
    rewrite(goldens, "adam.npz", scale("betas_rosenbrock/params", (5, 2), 1 + 1e-9))
    message = refusal(goldens, "adam", "betas_rosenbrock", "params at step 5, element 2,")
    assert str(goldens / "adam.npz") in message


def test_a_changed_start_is_refused_at_step_0(goldens):
    rewrite(goldens, "adam.npz", scale("noisy/params", (0, 3), 1 + 1e-12))
    refusal(goldens, "adam", "noisy", "params at step 0, element 3, is")


def test_a_changed_gradient_is_refused_at_its_step(goldens):
    rewrite(goldens, "adam.npz", scale("amsgrad_deep/grads", (7, 40), 1 + 1e-9))
    refusal(goldens, "adam", "amsgrad_deep", "grads at step 8, element 40,")


def test_a_changed_state_value_is_refused_at_its_step(goldens):
    rewrite(goldens, "adam.npz", scale("decoupled_rotated/state/exp_avg_sq", (3, 1), 1.001))
    refusal(goldens, "adam", "decoupled_rotated", "state/exp_avg_sq at step 4, element 1,")


@pytest.mark.parametrize("cid, change", [
    ("weight_decay_chained", lambda m: m["hp"].update(lr=m["hp"]["lr"] * 1.001)),
    ("amsgrad_isotropic", lambda m: m["hp"].update(eps=m["hp"]["eps"] * 2)),
    ("groups_isotropic", lambda m: m["groups"][0]["hp"].update(weight_decay=0.2)),
    ("warm_restarts_rosenbrock", lambda m: m["schedule"]["hp"].update(eta_min=m["schedule"]["hp"]["eta_min"] + 1e-4)),
], ids=["lr", "eps", "group-lr", "schedule"])
def test_a_changed_hyperparameter_is_refused(goldens, cid, change):
    rewrite(goldens, "adam.npz", lambda meta, arrays: change(case_meta(meta, cid)))
    refusal(goldens, "adam", cid, "params at step")


def test_gradients_and_params_changed_together_are_refused_by_the_problem(goldens):
    """A replay-consistent golden for wrong gradients: only the problem's own gradient shows it."""
    def change(meta, arrays):
        m = case_meta(meta, "default_rotated")
        grads = arrays["default_rotated/grads"]
        grads[10] *= 1.01
        hp = {k: tuple(v) if isinstance(v, list) else v for k, v in m["hp"].items()}
        params, _, states = trajectory.run(reference.get("adam"), problems.get(m["problem"], m["negate"]), hp,
                                           m["steps"], grads=grads.tolist())
        arrays["default_rotated/params"] = np.array(params)
        for name, rows in states.items():
            arrays[f"default_rotated/state/{name}"] = np.array(rows)
    rewrite(goldens, "adam.npz", change)
    refusal(goldens, "adam", "default_rotated", "grads at step 11, element 0, is")


def test_a_changed_problem_or_shape_is_refused(goldens):
    rewrite(goldens, "sgd.npz", lambda meta, arrays: case_meta(meta, "momentum_rotated").update(negate=True))
    refusal(goldens, "sgd", "momentum_rotated", "grads at step 1, element 0,")
    rewrite(goldens, "sgd.npz", lambda meta, arrays: case_meta(meta, "momentum_rotated").update(
        negate=False, shapes=[[10]]))
    refusal(goldens, "sgd", "momentum_rotated", "shapes [(10,)] are not those of problem quadratic_rotated_10d")


def test_inputs_its_reference_cannot_take_are_refused(goldens):
    rewrite(goldens, "sgd.npz", lambda meta, arrays: case_meta(meta, "groups_rotated")["groups"][0].update(
        tensors=[7]))
    refusal(goldens, "sgd", "groups_rotated", "its reference cannot walk it from the stored inputs (IndexError")


def test_a_dropped_state_buffer_is_refused(goldens):
    rewrite(goldens, "adam.npz", lambda meta, arrays: case_meta(meta, "amsgrad_deep")["state_names"].remove(
        "max_exp_avg_sq"))
    refusal(goldens, "adam", "amsgrad_deep", "is not what its reference keeps")


def test_a_changed_lbfgs_param_is_refused(goldens):
    rewrite(goldens, "lbfgs.npz", scale("fixed_rosenbrock/params", (3, 1), 1 + 1e-9))
    refusal(goldens, "lbfgs", "fixed_rosenbrock", "params at step 3, element 1,")


@pytest.mark.parametrize("key, value, words", [
    ("noisy/drift/float32", (4, -1e-9), "drift/float32 at step 4 is -1e-09, which cannot be negative"),
    ("noisy/drift/float64", (0, 1e-15), "drift/float64 at step 0 is 1e-15"),
    ("noisy/state_drift/float32/exp_avg", (2, -1.0), "state_drift/float32/exp_avg at step 3 is -1.0"),
])
def test_a_drift_that_cannot_be_is_refused(goldens, key, value, words):
    def change(meta, arrays):
        arrays[key][value[0]] = value[1]
    rewrite(goldens, "adam.npz", change)
    refusal(goldens, "adam", "noisy", words)


def test_a_negative_certified_error_is_refused(goldens):
    rewrite(goldens, "adam.npz", lambda meta, arrays: case_meta(meta, "eps_rosenbrock")["certificate"].update(
        replay_max_abs_error=-1e-17))
    refusal(goldens, "adam", "eps_rosenbrock", "certificate replay_max_abs_error is -1e-17")


def test_a_golden_without_a_certificate_is_walked_all_the_same(goldens):
    rewrite(goldens, "adam.npz", lambda meta, arrays: [m.pop("certificate") for m in meta["cases"]])
    assert load.load_cases("adam", goldens)
    rewrite(goldens, "adam.npz", scale("noisy/params", (9, 0), 1.0001))
    refusal(goldens, "adam", "noisy", "params at step 9")


# -- scheduler goldens -----------------------------------------------------------------------------

def test_a_changed_scheduler_lr_is_refused(goldens):
    rewrite(goldens, schedules.FILE.format("step_lr"), scale("default_gamma/lr", (6, 1), 1 + 1e-9))
    refusal(goldens, "step_lr", "default_gamma", "lr at step 6, group 1,", schedules.load_cases)


def test_a_changed_scheduler_hyperparameter_is_refused(goldens):
    rewrite(goldens, schedules.FILE.format("cosine_annealing_lr"),
            lambda meta, arrays: case_meta(meta, "t_max_7")["hp"].update(T_max=8))
    refusal(goldens, "cosine_annealing_lr", "t_max_7", "lr at step 1, group 0,", schedules.load_cases)


def test_changed_scheduler_groups_are_refused(goldens):
    rewrite(goldens, schedules.FILE.format("step_lr"),
            lambda meta, arrays: case_meta(meta, "every_3_halve")["groups"][1].update(momentum=0.5))
    refusal(goldens, "step_lr", "every_3_halve", "param groups", schedules.load_cases)


def test_a_changed_scheduler_certificate_is_refused(goldens):
    def change(meta, arrays):
        case_meta(meta, "past_t_max_eta_min")["certificate"]["lr"]["max_abs_error"] *= 2
    rewrite(goldens, schedules.FILE.format("cosine_annealing_lr"), change)
    refusal(goldens, "cosine_annealing_lr", "past_t_max_eta_min", "is not the 50-digit reference's",
            schedules.load_cases)


# -- the command line: exit 2, one line, nothing judged ---------------------------------------------

def one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("optgold: error: ")
    return err


def test_check_refuses_a_tampered_adam_golden(goldens, capsys):
    rewrite(goldens, "adam.npz", scale("eps_rosenbrock/state/exp_avg", (20, 0), 1.5))
    assert main(["check", "torch.optim:Adam", "--reference", "adam", "--golden-dir", str(goldens)]) == 2
    err = one_line_error(capsys)
    assert "adam.npz:eps_rosenbrock: state/exp_avg at step 21, element 0," in err
    assert err.endswith(f"regenerate with `optgold generate --golden-dir {goldens}`\n")


def test_check_refuses_a_tampered_scheduler_golden(goldens, capsys):
    rewrite(goldens, schedules.FILE.format("step_lr"), scale("every_3_halve/lr", (4, 0), 1.01))
    argv = ["check", "torch.optim.lr_scheduler:StepLR", "--reference", "step_lr", "--golden-dir", str(goldens)]
    assert main(argv) == 2
    assert "schedule_step_lr.npz:every_3_halve: lr at step 4, group 0," in one_line_error(capsys)


def test_averaging_refuses_the_tampered_trajectory_it_averages(goldens, capsys):
    rewrite(goldens, "sgd.npz", scale("momentum_rotated/params", (60, 2), 1.01))
    argv = ["check", "torch.optim.swa_utils:AveragedModel", "--reference", "ema", "--golden-dir", str(goldens)]
    assert main(argv) == 2
    assert "sgd.npz:momentum_rotated: params at step 60, element 2," in one_line_error(capsys)


# -- cost: once per file and hash, in the process that loads ------------------------------------

def test_each_file_is_walked_once_per_hash(goldens, monkeypatch):
    walks = []
    real = verify.optimizer_cases
    monkeypatch.setattr(verify, "optimizer_cases", lambda *args: walks.append(args[2]) or real(*args))
    load.load_cases("sgd", goldens)
    load.load_cases("sgd", goldens)
    assert len(walks) == 1
    rewrite(goldens, "sgd.npz", scale("plain_isotropic/params", (2, 0), 1.1))
    with pytest.raises(store.GoldenError):
        load.load_cases("sgd", goldens)
    with pytest.raises(store.GoldenError):  # a refusal is not remembered
        load.load_cases("sgd", goldens)
    assert len(walks) == 3


# -- rounding: another interpreter's sum() is not a tampering ------------------------------------

def compensated_sum(values, start=0):
    """sum() as Python 3.12 and later round it (compensated), on an interpreter that sums naively."""
    values = list(values)
    if values and all(type(v) is float for v in values) and start == 0:
        return math.fsum(values)
    return sum(values, start)


@pytest.fixture
def other_sum(monkeypatch):
    """The references summing as another interpreter does: every gradient of a quadratic rounds otherwise."""
    for name, module in list(sys.modules.items()):
        if name.startswith("optgold.reference"):
            monkeypatch.setattr(module, "sum", compensated_sum, raising=False)
    _, arrays = store.read(PACKAGED, "sgd.npz")
    params, grads = arrays["nesterov_deep/params"].tolist(), arrays["nesterov_deep/grads"].tolist()
    problem = problems.get("quadratic_deep_100d")
    assert any(problem.gradient(params[t], t) != grads[t] for t in range(len(grads)))  # the walk is not exact


@pytest.mark.parametrize("ref_name", ["sgd", "lamb", "lbfgs"])
def test_rounding_of_another_interpreter_is_allowed_and_a_change_is_not(goldens, other_sum, ref_name):
    assert load.load_cases(ref_name, goldens)
    cid = load.load_cases(ref_name, goldens)[1].id
    rewrite(goldens, f"{ref_name}.npz", scale(f"{cid}/params", (3, 0), 1 + 1e-9))
    refusal(goldens, ref_name, cid, "params at step 3, element 0,")


def test_a_manifest_that_changed_while_the_file_was_read_is_not_remembered(goldens):
    """A write under way: the hash listed before reading is not the one listed after, so the walk is redone."""
    walks, rebuild = [], store.rebuild_command(goldens)
    now = verify.listed(goldens, "sgd.npz", rebuild)
    for before in ["0" * 64, "0" * 64, now, now]:
        verify.once(goldens, "sgd.npz", before, rebuild, lambda: walks.append(before))
    assert len(walks) == 3


# -- drift: measured again, as golden/generate.py measures it ---------------------------------------

@pytest.mark.parametrize("key, index, factor, words", [
    ("noisy/drift/float32", 120, 0.5, "drift/float32 at step 120 is"),
    ("eps_rosenbrock/drift/float64", 40, 10.0, "drift/float64 at step 40 is"),
    ("decoupled_rotated/state_drift/float32/exp_avg_sq", 6, 0.5, "state_drift/float32/exp_avg_sq at step 7 is"),
], ids=["shrunk", "inflated", "state"])
def test_a_changed_drift_is_refused_at_its_step(goldens, key, index, factor, words):
    rewrite(goldens, "adam.npz", scale(key, index, factor))
    message = refusal(goldens, "adam", key.split("/")[0], words)
    assert "golden/generate.py" in message


def test_a_changed_drift_is_refused_on_another_interpreter_too(goldens, other_sum):
    """Where the walk is not exact, a float32 drift is still held to a millionth of itself."""
    assert load.load_cases("adam", goldens)
    rewrite(goldens, "adam.npz", scale("noisy/drift/float32", 30, 1.1))
    refusal(goldens, "adam", "noisy", "drift/float32 at step 30 is")


def test_check_refuses_a_tampered_drift(goldens, capsys):
    rewrite(goldens, "adam.npz", scale("betas_rosenbrock/drift/float64", 50, 0.5))
    assert main(["check", "torch.optim:Adam", "--reference", "adam", "--golden-dir", str(goldens)]) == 2
    assert "adam.npz:betas_rosenbrock: drift/float64 at step 50 is" in one_line_error(capsys)
