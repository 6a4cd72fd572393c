"""Write the CIFAR goldens: the network trained by the plain-Python reference update.

Per case and step, the gradient comes from the network in float64 on the CPU and the
update is ``reference.get(name).step`` on flat Python lists, element by element, as
for every other golden. The lr of each step comes from the case's schedule, the
reference scheduler spec the quadratic cases attach too (golden/cifar/schedule.py).
Stored: the loss and lr of each step, the fingerprint of the parameters at the start
and after each step, the final parameters (rounded to float32), the rounding drift
(golden/cifar/reproduce.py), and the final loss and accuracy: about 0.75 MB per case.

The drift run goes along in lockstep: the same formulas on whole tensors (lanes.py)
with every gradient and parameter nudged by rounding-sized errors.
"""
import tempfile
from pathlib import Path

import numpy as np
import torch

from optgold import reference
from optgold.golden import store
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import fingerprint, model, reproduce, schedule
from optgold.golden.cifar.grid import GRID
from optgold.golden.cifar.lanes import Lanes

GENERATOR_VERSION = "cifar-3"  # 3: schedules as reference scheduler specs
PERTURBATION_SEED = 3


class _Perturbed:
    """The drift run: errors of the size float64 rounding makes, with random signs, every step.

    A gradient element is a sum over the batch and the image positions, so it may be off
    by sqrt(terms) * u * (|g| + mean |g|); a parameter by u * |p| after each update.
    """

    def __init__(self, optimizer, tensors, hp, terms):
        self.lanes = Lanes(optimizer, tensors, hp)
        self.rng = np.random.Generator(np.random.PCG64(PERTURBATION_SEED))
        self.gradient_error = np.sqrt(terms) * reproduce.U64

    def _signs(self, shape):
        return self.rng.integers(0, 2, shape) * 2.0 - 1.0

    def step(self, images, labels, hp):
        _, grads = model.loss_and_gradient(self.lanes.tensors, images, labels)
        grads = [g + self.gradient_error * (np.abs(g) + np.abs(g).mean()) * self._signs(g.shape) for g in grads]
        self.lanes.step(grads, hp)
        self.lanes.tensors = [p + reproduce.U64 * np.abs(p) * self._signs(p.shape) for p in self.lanes.tensors]


def case_record(case, data, progress=None):
    """(meta, arrays) of one case; ``progress(case, step)`` after each step."""
    optimizer = reference.get(case.reference)
    run = cifar_data.run_data(data, case.batch_size, case.steps, case.order_seed, case.eval_size)
    rates = schedule.learning_rates(case.schedule, case.hp["lr"], case.steps)
    signs = fingerprint.directions(model.SHAPES)
    tensors = model.initial_params(case.init_seed)
    flat = [t.reshape(-1).tolist() for t in tensors]
    states = [optimizer.init_state(len(p), case.hp) for p in flat]
    perturbed = _Perturbed(optimizer, tensors, case.hp, terms=case.batch_size * 32 * 32)
    prints, losses, drift = [fingerprint.fingerprint(tensors, signs)], [], [0.0]
    for t in range(case.steps):
        images, labels = run.batch(t)
        loss, grads = model.loss_and_gradient(tensors, images, labels)
        hp = {**case.hp, "lr": rates[t]}
        for p, g, state in zip(flat, grads, states):
            optimizer.step(p, g.reshape(-1).tolist(), state, **hp)
        tensors = [np.array(p).reshape(shape) for p, shape in zip(flat, model.SHAPES)]
        perturbed.step(images, labels, hp)
        drift.append(max(float(np.abs(a - b).max()) for a, b in zip(perturbed.lanes.tensors, tensors)))
        prints.append(fingerprint.fingerprint(tensors, signs))
        losses.append(loss)
        if progress:
            progress(case, t + 1)
    evaluation = model.evaluate_run(tensors, run)
    meta = {
        "id": case.id, "reference": case.reference, "hp": case.hp, "schedule": case.schedule, "steps": case.steps,
        "batch_size": case.batch_size, "eval_size": run.eval_size, "init_seed": case.init_seed,
        "order_seed": case.order_seed, "names": model.NAMES, "shapes": [list(s) for s in model.SHAPES],
        "fingerprint": {"fields": list(fingerprint.FIELDS), "seed": fingerprint.SEED},
        "data": {"name": data.name, "sha256": run.identity(), "train_images": len(data.train_labels),
                 "test_images": len(data.test_labels)},
        "golden_eval": evaluation, "torch_version": torch.__version__,
    }
    arrays = {
        f"{case.id}/loss": np.array(losses), f"{case.id}/lr": np.array(rates, dtype=np.float64),
        f"{case.id}/fingerprints": np.array(prints), f"{case.id}/drift": np.array(drift),
        # float32 halves the largest array; the float64 fingerprints already certify the last step tightly
        f"{case.id}/final_params": np.concatenate([t.reshape(-1) for t in tensors]).astype(np.float32),
    }
    return meta, arrays


def build(data, grid=None, progress=None):
    """{file name: (meta, arrays)}, one file per reference."""
    files = {}
    for ref_name, cases in (grid or GRID).items():
        metas, arrays = [], {}
        for case in cases:
            meta, case_arrays = case_record(case, data, progress)
            metas.append(meta)
            arrays.update(case_arrays)
        files[f"{ref_name}.npz"] = ({"reference": ref_name, "problem": "cifar", "data": data.name, "cases": metas},
                                    arrays)
    return files


def generate(directory, data, grid=None, progress=None):
    return store.write(directory, build(data, grid, progress), GENERATOR_VERSION)


def check(directory, data, grid=None, progress=None):
    """Regenerate into a scratch folder: ({file: problem} for what is not reproduced, whether every
    file came out byte for byte).

    Byte for byte on the machine that wrote the goldens; elsewhere, every fingerprint and
    final parameter within the float64 reproduction bound (golden/cifar/reproduce.py).
    """
    from optgold.golden.cifar.load import load_cases

    stored = store.read_manifest(directory)
    problems, exact = {}, True
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(scratch, data, grid, progress)
        for name, entry in fresh["files"].items():
            path = Path(directory) / name
            if name not in stored["files"]:
                problems[name] = "missing from the stored manifest"
            elif not path.is_file():
                problems[name] = "listed in the manifest but the file is missing"
            elif store.sha256(path.read_bytes()) != stored["files"][name]["sha256"]:
                problems[name] = "stored file does not match its manifest"
            elif stored["files"][name]["sha256"] != entry["sha256"]:
                exact = False
                problems[name] = _compare(load_cases(name[:-4], directory, data, verify_data=False),
                                          load_cases(name[:-4], scratch, data, verify_data=False))
        problems.update({n: "stored but no longer generated" for n in set(stored["files"]) - set(fresh["files"])})
    if stored.get("generator_version") != GENERATOR_VERSION:
        problems[store.MANIFEST] = f"generator version {stored.get('generator_version')} != {GENERATOR_VERSION}"
    return {name: problem for name, problem in problems.items() if problem}, exact


def _compare(stored_cases, fresh_cases):
    """'' when every fresh case is within the reproduction bound of the stored one, else the first miss."""
    stored = {c.id: c for c in stored_cases}
    for fresh in fresh_cases:
        old = stored.get(fresh.id)
        if old is None or old.steps != fresh.steps:
            return f"case {fresh.id} differs in definition; regenerate"
        miss = reproduce.first_mismatch(fresh.fingerprints, old.fingerprints, old.drift, old.sizes)
        if miss:
            t, k, f, difference, bound = miss
            return (f"case {fresh.id}: step {t}, {old.names[k]} {old.fields[f]} differs by {difference:.3g} "
                    f"(reproduction bound {bound:.3g})")
        difference = np.abs(fresh.final_params.astype(np.float64) - old.final_params)
        if not (difference <= reproduce.final_bound(old.drift[-1], old.final_params)).all():
            return f"case {fresh.id}: final parameters differ beyond the reproduction bound"
    return ""
