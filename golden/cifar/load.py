"""CIFAR goldens as the suite sees them: where they live, validated arrays, matching data.

Layout: a folder with its own MANIFEST.json (golden/store.py) and one archive per
reference. The synthetic set's goldens ship in golden/data/cifar/. Goldens built from
a real CIFAR-10 folder go to ~/.cache/optgold/cifar10/ ($XDG_CACHE_HOME respected).
--golden-dir DIR (or $OPTGOLD_GOLDEN_DIR) moves both, to DIR/cifar and DIR/cifar10,
so they never overwrite the quadratic goldens' manifest in DIR.
"""
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optgold import reference
from optgold.golden import store
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import fingerprint, model


@dataclass(frozen=True, eq=False)
class CifarGolden:
    reference: str
    id: str
    hp: dict
    schedule: dict
    steps: int
    batch_size: int
    eval_size: int
    init_seed: int
    order_seed: int
    names: list
    fields: list
    data_name: str
    data_sha256: str
    golden_eval: dict  # {"train"|"test": {"loss", "accuracy"}} of the final golden parameters
    loss: np.ndarray  # (steps,): the batch loss at the golden parameters before each step
    lr: np.ndarray  # (steps,): the lr each step used
    fingerprints: np.ndarray  # (steps + 1, tensors, fields)
    drift: np.ndarray  # (steps + 1,): float64 rounding drift, for reproduction bounds
    final_params: np.ndarray  # (n,), float32

    shapes = tuple(tuple(s) for s in model.SHAPES)

    @property
    def sizes(self):
        return [int(np.prod(s)) for s in self.shapes]

    @property
    def size(self):
        return sum(self.sizes)

    def start(self):
        return model.initial_params(self.init_seed)


def golden_dir(override=None, data_name=None):
    """The folder of the CIFAR goldens for this data (see the module docstring)."""
    sub = "cifar10" if data_name == cifar_data.CIFAR10 else "cifar"
    root = override or os.environ.get("OPTGOLD_GOLDEN_DIR")
    if root:
        return Path(root) / sub
    if sub == "cifar":
        return store.PACKAGED_DIR / sub
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "optgold" / sub


def _array(arrays, key, shape, label, dtype=np.float64):
    value = arrays.get(key)
    if value is None or value.shape != shape or value.dtype != dtype or not np.isfinite(value).all():
        raise store.GoldenError(f"{label}: array {key} is missing, misshapen or not finite; regenerate with "
                                "`optgold generate --problem cifar`")
    value.flags.writeable = False
    return value


def _hyperparameters(raw, ref_name, label):
    defaults = reference.get(ref_name).DEFAULTS
    if set(raw) != set(defaults):
        raise store.GoldenError(f"{label}: hyperparameters {sorted(raw)} do not match the reference's "
                                f"{sorted(defaults)}; regenerate with `optgold generate --problem cifar`")
    return {k: tuple(v) if isinstance(defaults[k], tuple) else v for k, v in raw.items()}


def _case(m, arrays, ref_name, label):
    if m["names"] != model.NAMES or tuple(tuple(s) for s in m["shapes"]) != CifarGolden.shapes:
        raise store.GoldenError(f"{label}: goldens for another network ({m['names']}); regenerate")
    if m["fingerprint"] != {"fields": list(fingerprint.FIELDS), "seed": fingerprint.SEED}:
        raise store.GoldenError(f"{label}: goldens with another fingerprint ({m['fingerprint']}); regenerate")
    cid, steps, n = m["id"], m["steps"], model.SIZE
    key = f"{cid}/"
    return CifarGolden(
        reference=ref_name, id=cid, hp=_hyperparameters(m["hp"], ref_name, f"{label}:{cid}"), schedule=m["schedule"],
        steps=steps, batch_size=m["batch_size"], eval_size=m["eval_size"], init_seed=m["init_seed"],
        order_seed=m["order_seed"], names=m["names"], fields=m["fingerprint"]["fields"],
        data_name=m["data"]["name"], data_sha256=m["data"]["sha256"], golden_eval=m["golden_eval"],
        loss=_array(arrays, key + "loss", (steps,), label), lr=_array(arrays, key + "lr", (steps,), label),
        fingerprints=_array(arrays, key + "fingerprints", (steps + 1, len(model.SHAPES), len(fingerprint.FIELDS)),
                            label),
        drift=_array(arrays, key + "drift", (steps + 1,), label),
        final_params=_array(arrays, key + "final_params", (n,), label, np.float32),
    )


def load_cases(ref_name, directory, data, verify_data=True):
    """Every CIFAR case of one reference, hash-checked, and made from ``data``."""
    reference.get(ref_name)  # an unknown name is a usage error, not a golden one
    directory = Path(directory)
    manifest = store.read_manifest(directory)
    name = f"{ref_name}.npz"
    if name not in manifest["files"]:
        covered = ", ".join(sorted(f[:-4] for f in manifest["files"])) or "none"
        raise store.GoldenError(f"{directory} holds no CIFAR golden for reference {ref_name!r} (it covers: "
                                f"{covered})")
    meta, arrays = store.read(directory, name)
    label = directory / name
    try:
        cases = [_case(m, arrays, ref_name, label) for m in meta["cases"]]
    except (KeyError, TypeError) as error:
        raise store.GoldenError(f"{label}: malformed case metadata ({error!r}); regenerate with "
                                "`optgold generate --problem cifar`") from None
    if verify_data:
        for case in cases:
            _verify_data(case, data, label)
    return cases


def _verify_data(case, data, label):
    run = cifar_data.run_data(data, case.batch_size, case.steps, case.order_seed, case.eval_size)
    if case.data_name != data.name or case.data_sha256 != run.identity():
        raise store.GoldenError(
            f"{label}:{case.id} was generated from other data ({case.data_name}, sha256 {case.data_sha256[:12]}) "
            f"than this check uses ({data.description}); run `optgold generate --problem cifar` with the same "
            "--cifar-dir to build goldens from it")
