"""CIFAR goldens as the suite sees them: where they live, validated arrays, matching data.

Layout: a folder with its own MANIFEST.json (golden/store.py) and one archive per
reference. The synthetic set's goldens ship in golden/data/cifar/. Goldens built from
a real CIFAR-10 folder go to ~/.cache/optgold/cifar10/ ($XDG_CACHE_HOME respected).
--golden-dir DIR (or $OPTGOLD_GOLDEN_DIR) moves both, to DIR/cifar and DIR/cifar10,
so they never overwrite the quadratic goldens' manifest in DIR.

Every error about a CIFAR golden names the command that rebuilds it (rebuild_command):
``optgold generate --problem cifar``, with ``--cifar-dir`` for goldens of real CIFAR-10
and ``--golden-dir`` for goldens outside their default folder.
"""
import os
import re
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
    rebuild: str = "optgold generate --problem cifar"  # the command that rebuilds this golden (rebuild_command)

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
    root = override or os.environ.get("OPTGOLD_GOLDEN_DIR")
    return Path(root) / _subfolder(data_name) if root else _default_dir(data_name)


def _subfolder(data_name):
    return "cifar10" if data_name == cifar_data.CIFAR10 else "cifar"


def _default_dir(data_name):
    """Where the goldens of this data live when no golden folder is named."""
    if _subfolder(data_name) == "cifar":
        return store.PACKAGED_DIR / "cifar"
    return store.cache_root() / "cifar10"


def generate_root(override=None, data_name=None):
    """The --golden-dir that `optgold generate --problem cifar` writes under (None: its default folder,
    golden_dir(None, data_name)); an installed package's synthetic-set goldens are never written,
    so those go to the user cache's store.generate_dir()."""
    if override or os.environ.get(store.ENV) or _subfolder(data_name) != "cifar" or not store.installed():
        return override
    return store.generate_dir()


def rebuild_command(directory, data_name=None, cifar_dir=None):
    """The command that rebuilds the CIFAR goldens in ``directory`` from the data named ``data_name``
    (read from ``cifar_dir`` when it is CIFAR-10); the packaged ones of an installed package are
    restored by reinstalling it."""
    if _subfolder(data_name) == "cifar" and store.same_dir(directory, _default_dir(data_name)) and store.installed():
        return store.reinstall_command()
    options = ["--problem", "cifar"]
    if data_name == cifar_data.CIFAR10:
        options += ["--cifar-dir", cifar_dir or "DIR"]
    if os.environ.get(store.ENV) or not store.same_dir(directory, _default_dir(data_name)):
        options += ["--golden-dir", Path(directory).parent]  # golden_dir() puts them in its argument's subfolder
    return store.generate_command(*options)


_CIFAR10_DESCRIPTION = re.compile(r"CIFAR-10 from (?P<dir>.+) \(\d+ training and \d+ test images\)")


def data_dir(data):
    """The CIFAR-10 folder ``data`` was read from (None for the synthetic set)."""
    if data.name != cifar_data.CIFAR10:
        return None
    if getattr(data, "directory", None):
        return data.directory
    match = _CIFAR10_DESCRIPTION.fullmatch(data.description)  # golden/cifar/data.py names the folder there
    return Path(match["dir"]) if match else cifar_data.resolve_dir()


def rebuild_for(directory, data):
    """rebuild_command for goldens in ``directory`` made from ``data``."""
    return rebuild_command(directory, data.name, data_dir(data))


def _array(arrays, key, shape, label, rebuild, dtype=np.float64):
    value = arrays.get(key)
    if value is None or value.shape != shape or value.dtype != dtype or not np.isfinite(value).all():
        got = "absent" if value is None else f"{value.dtype} {value.shape}"
        raise store.GoldenError(f"{label}: array {key} is missing, misshapen or not finite (want {np.dtype(dtype)} "
                                f"{shape}, got {got}); regenerate with `{rebuild}`")
    value.flags.writeable = False
    return value


def _hyperparameters(raw, ref_name, label, rebuild):
    defaults = reference.get(ref_name).DEFAULTS
    if not isinstance(raw, dict) or set(raw) != set(defaults):
        raise store.GoldenError(f"{label}: hyperparameters {sorted(raw) if isinstance(raw, dict) else raw!r} do not "
                                f"match the reference's {sorted(defaults)}; regenerate with `{rebuild}`")
    return {k: tuple(v) if isinstance(defaults[k], tuple) else v for k, v in raw.items()}


def _case(m, arrays, ref_name, label, rebuild):
    if m["names"] != model.NAMES or tuple(tuple(s) for s in m["shapes"]) != CifarGolden.shapes:
        raise store.GoldenError(f"{label}: goldens for another network ({m['names']}); regenerate with `{rebuild}`")
    if m["fingerprint"] != {"fields": list(fingerprint.FIELDS), "seed": fingerprint.SEED}:
        raise store.GoldenError(f"{label}: goldens with another fingerprint ({m['fingerprint']}); regenerate with "
                                f"`{rebuild}`")
    cid, steps, n = m["id"], m["steps"], model.SIZE
    key = f"{cid}/"

    def array(name, shape, dtype=np.float64):
        return _array(arrays, key + name, shape, label, rebuild, dtype)

    return CifarGolden(
        reference=ref_name, id=cid, hp=_hyperparameters(m["hp"], ref_name, f"{label}:{cid}", rebuild),
        schedule=m["schedule"], steps=steps, batch_size=m["batch_size"], eval_size=m["eval_size"],
        init_seed=m["init_seed"], order_seed=m["order_seed"], names=m["names"], fields=m["fingerprint"]["fields"],
        data_name=m["data"]["name"], data_sha256=m["data"]["sha256"], golden_eval=m["golden_eval"],
        loss=array("loss", (steps,)), lr=array("lr", (steps,)),
        fingerprints=array("fingerprints", (steps + 1, len(model.SHAPES), len(fingerprint.FIELDS))),
        drift=array("drift", (steps + 1,)),
        final_params=array("final_params", (n,), np.float32), rebuild=rebuild,
    )


def load_cases(ref_name, directory, data, verify_data=True):
    """Every CIFAR case of one reference, hash-checked, and made from ``data``."""
    from optgold.golden.cifar.grid import GRID

    reference.get(ref_name)  # an unknown name is a usage error, not a golden one
    directory = Path(directory)
    rebuild = rebuild_for(directory, data)
    manifest = store.read_manifest(directory, rebuild)
    name = f"{ref_name}.npz"
    if name not in manifest["files"]:
        covered = ", ".join(sorted(f[:-4] for f in manifest["files"])) or "none"
        fix = f"; regenerate with `{rebuild}`" if ref_name in GRID else f"; the CIFAR run has no {ref_name!r} case"
        raise store.GoldenError(f"{directory} holds no CIFAR golden for reference {ref_name!r} (it covers: "
                                f"{covered}){fix}")
    meta, arrays = store.read(directory, name, rebuild)
    label = directory / name
    try:
        cases = [_case(m, arrays, ref_name, label, rebuild) for m in meta["cases"]]
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise store.GoldenError(f"{label}: malformed case metadata ({error!r}); regenerate with `{rebuild}`") from None
    if verify_data:
        for case in cases:
            _verify_data(case, data, label, rebuild)
    return cases


def _verify_data(case, data, label, rebuild):
    run = cifar_data.run_data(data, case.batch_size, case.steps, case.order_seed, case.eval_size)
    if case.data_name != data.name or case.data_sha256 != run.identity():
        raise store.GoldenError(
            f"{label}:{case.id} was generated from other data ({case.data_name}, sha256 {case.data_sha256[:12]}) "
            f"than this check uses ({data.description}); build goldens from this data with `{rebuild}`")
