"""The contract goldens: each reference run under the events of reference/contracts.py.

A reference whose grid module (golden/grid/<name>.py) sets CONTRACT_HP has contract
goldens, in ``contracts_<name>.npz`` beside its formula grid's ``<name>.npz``. They are
cases like any other (certified, drift measured, walked again on load), with their
events stored in the metadata. Which contract case is judged against which golden, and
what the harness does around the steps, is optgold.contracts'; here is what the
reference computes.

The cases make each contract matter: a warm-restart schedule (T_0 = 10 and T_mult = 2, so
step 11 is a restart), weight decay and momentum in every CONTRACT_HP (a skipped tensor that still
decays, or a dropped buffer, moves the parameters measurably), a tensor frozen for the
first steps and unfrozen, a step where every gradient is None, zero gradients to
contrast with None, overflowed steps back to back, a group joining halfway with its own
lr, and a long run past 2048 steps whose betas keep the bias correction moving.
"""
import importlib

from optgold import reference
from optgold.golden.grid.case import cases
from optgold.reference import capabilities

FILE = "contracts_{}.npz"
# restarts before steps 11 and 31; T_mult = 2 makes a scheduler that lost its state differ even when it is
# rebuilt right at a restart (its next period would be 10 steps, not 20)
SCHEDULE = {"scheduler": "cosine_annealing_warm_restarts", "hp": {"T_0": 10, "T_mult": 2, "eta_min": 0.0}}
STEPS = 30
LONG_STEPS = 2100  # past 2048, where a step count kept in float16 stops (bfloat16 stops at 256)
EVENTS = {
    # tensor 1 frozen (.grad None) for steps 1-8, then unfrozen; step 15 has no gradient at all;
    # tensor 0's gradient is zero for steps 10-12 (an ordinary step); tensor 2 absent again at 21-23
    "missing_grad": {"absent": [[s, [1]] for s in range(1, 9)] + [[15, [0, 1, 2]]] + [[s, [2]] for s in (21, 22, 23)],
                     "zeroed": [[s, [0]] for s in (10, 11, 12)]},
    "amp_skip": {"skipped": [4, 5, 13]},  # two overflows back to back, one after the restart
    "reordered": {"restart": [13], "reorder": [2, 1, 0]},
    "group_added": {"joins": [[2, 11]]},
}
USED_BY = {  # golden case -> the contract it is for (the base serves several)
    "base": None, "missing_grad": "missing_grad", "amp_skip": "amp", "reordered": "resume",
    "group_added": "group_added", "empty_tensors": "empty_tensors", "long": "low_precision",
}


def _grid_module(ref_name):
    try:
        return importlib.import_module(f"optgold.golden.grid.{ref_name}")
    except ModuleNotFoundError:
        return None


def has_contracts(ref_name):
    return getattr(_grid_module(ref_name), "CONTRACT_HP", None) is not None


def grid(ref_name):
    """The contract golden cases of a reference (grid Case objects with events); [] if it has none."""
    module = _grid_module(ref_name)
    hp = getattr(module, "CONTRACT_HP", None)
    if hp is None:
        return []
    long_hp = {**hp, **getattr(module, "CONTRACT_LONG_HP", {})}
    group_hp = {"lr": hp.get("lr", reference.get(ref_name).DEFAULTS["lr"]) / 2}
    rows = {
        "base": ("quadratic_contract", STEPS, hp, [], SCHEDULE),
        "missing_grad": ("quadratic_contract", STEPS, hp, [], SCHEDULE),
        "amp_skip": ("quadratic_contract", STEPS, hp, [], SCHEDULE),
        "reordered": ("quadratic_contract", STEPS, hp, [], SCHEDULE),
        # no schedule: a scheduler built before add_param_group does not know the new group
        "group_added": ("quadratic_contract", STEPS, hp, [{"tensors": [0, 1], "hp": {}}, {"tensors": [2],
                                                                                          "hp": group_hp}], None),
        "empty_tensors": ("quadratic_contract_empty", 20, hp, [], SCHEDULE),
        "long": ("quadratic_contract_long", LONG_STEPS, long_hp, [], None),
    }
    optimizer = reference.get(ref_name)
    chosen = [(cid, row) for cid, row in rows.items()
              if USED_BY[cid] is None or capabilities.contract_reason(optimizer, USED_BY[cid]) is None]
    built = cases(ref_name, [(cid, problem, steps, hp, groups, schedule) for cid, (problem, steps, hp, groups, schedule)
                             in chosen])
    return [_with_events(case, EVENTS.get(case.id)) for case in built]


def _with_events(case, events):
    from dataclasses import replace

    return replace(case, events=events)
