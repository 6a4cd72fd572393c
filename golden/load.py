"""Golden cases as the suite sees them: metadata plus validated arrays, walked again by their reference."""
from dataclasses import dataclass

import numpy as np

from optgold import reference
from optgold.golden import store, verify
from optgold.golden.dtypes import UNIT_ROUNDOFF


@dataclass(frozen=True)
class GoldenCase:
    reference: str
    id: str
    problem: str
    negate: bool
    steps: int
    hp: dict
    shapes: list
    params: np.ndarray  # (steps + 1, n): the start, then after each step
    grads: np.ndarray  # (steps, n): the gradient each step used
    state: dict  # name -> (steps, n), after each step
    drift: dict  # dtype -> (steps + 1,): how far rounding at that dtype carries a free run
    state_drift: dict  # dtype -> {state name: (steps,)}: the same for each state buffer
    golden_error: dict  # certified max abs error of the float64 golden, per mode
    groups: tuple = ()  # ({"tensors": [...], "hp": {overrides}}, ...); () is one param group
    schedule: dict = None  # {"scheduler": name, "hp": {...}}: the LR scheduler stepped after each step
    events: dict = None  # reference.contracts events (their JSON form) the golden was made under
    contract: str = None  # the contract a contract case checks (optgold.contracts); None: the formula grid
    setting: dict = None  # a contract case's own setting (the contract module reads it)

    def run_args(self):
        """Keyword arguments of reference.trajectory.run that reproduce this case's setup."""
        return {"groups": [dict(g) for g in self.groups] or None, "schedule": self.schedule, "events": self.events}

    def tensor_hyperparameters(self):
        """Each tensor's hyperparameters: the case's, with its param group's overrides."""
        from optgold.reference.trajectory import tensor_hyperparameters

        return tensor_hyperparameters(self.hp, self.run_args()["groups"], len(self.shapes))

    @property
    def size(self):
        return self.params.shape[1]


def _hyperparameters(raw, defaults, label, rebuild, partial=False):
    if not isinstance(raw, dict) or not (set(raw) <= set(defaults) if partial else set(raw) == set(defaults)):
        raise store.GoldenError(f"{label}: hyperparameters {sorted(raw) if isinstance(raw, dict) else raw!r} do not "
                                f"match the reference's {sorted(defaults)}; regenerate with `{rebuild}`")
    return {k: tuple(v) if isinstance(defaults[k], tuple) else v for k, v in raw.items()}


def _array(arrays, key, shape, label, rebuild):
    """A validated golden array; a None in ``shape`` accepts any length there (state with
    one number per tensor, or factored state, is narrower than the parameters)."""
    value = arrays.get(key)
    fits = value is not None and len(value.shape) == len(shape) and all(
        want is None or have == want for have, want in zip(value.shape, shape))
    if not fits or value.dtype != np.float64 or not np.isfinite(value).all():
        got = "absent" if value is None else f"{value.dtype} {value.shape}"
        want = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ")"
        raise store.GoldenError(f"{label}: array {key} is missing, misshapen or not finite (want float64 {want}, "
                                f"got {got}); regenerate with `{rebuild}`")
    value.flags.writeable = False  # goldens are shared by every run; nothing may write into them
    return value


def _events(raw, label, rebuild):
    from optgold.reference.contracts import Events

    try:
        Events.of(raw)
    except (ValueError, TypeError) as error:
        raise store.GoldenError(f"{label}: events are malformed ({error}); regenerate with `{rebuild}`") from None
    return raw


def load_cases(ref_name, directory=None):
    """Every golden case of one reference, checked against the manifest hash, for shape, and
    against its reference (golden/verify.py: a golden its reference does not reproduce is refused)."""
    return _load(ref_name, f"{ref_name}.npz", directory)


def load_contract_goldens(ref_name, directory=None):
    """The contract goldens of one reference (golden/contracts.py), checked as load_cases checks;
    [] for a reference that has none (one from outside optgold)."""
    from optgold.golden import contracts

    name = contracts.FILE.format(ref_name)
    directory = store.golden_dir(directory)
    rebuild = store.rebuild_command(directory)
    if name not in store.read_manifest(directory, rebuild)["files"]:
        if contracts.has_contracts(ref_name):
            raise store.GoldenError(f"{directory}: the manifest lists no {name}, the contract goldens of "
                                    f"{ref_name}; regenerate with `{rebuild}`")
        return []
    return _load(ref_name, name, directory)


def _load(ref_name, name, directory):
    defaults = reference.get(ref_name).DEFAULTS
    directory = store.golden_dir(directory)
    rebuild = store.rebuild_command(directory)
    listed = verify.listed(directory, name, rebuild)
    meta, arrays = store.read(directory, name, rebuild)
    label = directory / name
    cases, certificates = [], {}
    try:
        for m in meta["cases"]:
            n, steps, cid = sum(int(np.prod(s)) for s in m["shapes"]), m["steps"], m["id"]
            certificate = certificates[cid] = m.get("certificate", {})

            def array(key, shape):
                return _array(arrays, f"{cid}/{key}", shape, label, rebuild)

            cases.append(GoldenCase(
                reference=ref_name, id=cid, problem=m["problem"], negate=m["negate"], steps=steps,
                hp=_hyperparameters(m["hp"], defaults, f"{label}:{cid}", rebuild),
                shapes=[tuple(s) for s in m["shapes"]],
                params=array("params", (steps + 1, n)),
                grads=array("grads", (steps, n)),
                state={s: array(f"state/{s}", (steps, None)) for s in m["state_names"]},
                drift={d: array(f"drift/{d}", (steps + 1,)) for d in UNIT_ROUNDOFF},
                state_drift={d: {s: array(f"state_drift/{d}/{s}", (steps,)) for s in m["state_names"]}
                             for d in UNIT_ROUNDOFF},
                golden_error={"replay": certificate.get("replay_max_abs_error", 0.0),
                              "free": certificate.get("free_max_abs_error", 0.0)},
                groups=tuple({"tensors": g["tensors"], "hp": _hyperparameters(g["hp"], defaults, f"{label}:{cid}",
                                                                              rebuild, partial=True)}
                             for g in m.get("groups", ())),
                schedule=m.get("schedule"),
                events=_events(m.get("events"), f"{label}:{cid}", rebuild),
            ))
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise store.GoldenError(f"{label}: malformed case metadata ({error!r}); regenerate with `{rebuild}`") from None
    verify.once(directory, name, listed, rebuild,
                lambda: verify.optimizer_cases(cases, certificates, label, rebuild))
    return cases
