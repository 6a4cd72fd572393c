"""Scheduler goldens: the case grid, the golden files it builds, and loading them.

A case is a scheduler, its hyperparameters, an optimizer with two param groups of different
base lrs (and momenta), the number of steps, and for ReduceLROnPlateau the metric of every
step. Its golden holds, per quantity the scheduler sets (lr; momentum too for CyclicLR and
OneCycleLR), a (steps + 1, groups) array: row 0 right after construction, row t after the
t-th ``scheduler.step()``. Each case carries a certificate: the largest difference of the
float64 golden from the same schedule computed at 50 digits.

One file per scheduler, ``schedule_<name>.npz``, in the same store (and under the same
manifest) as the optimizer goldens; golden/generate.py, which alone writes the store, builds
and checks them with the rest (``generate(directory, names=list(GRID))`` for these only).

Choices that make every hyperparameter matter (tests/test_schedulers_reference.py checks
that changing any one changes some case's golden, and that every named bug shows):
two groups with base lrs 0.1 and 0.025 (per-group bugs), per-group lists for every argument
torch accepts as a list, runs past every boundary (T_max and back up, several restarts and
cycles, every milestone, the end of every warm-up), repeated and unsorted milestones,
defaults exercised in their own cases, ChainedScheduler with sub-schedulers that do not
commute, and metric sequences with improvements just above and just below the threshold
in both threshold modes.
"""
from dataclasses import dataclass, field

import numpy as np

from optgold.golden import store, verify
from optgold.reference import schedulers

DIGITS = 50
FILE = "schedule_{}.npz"

# The optimizers' param groups: base lrs and momenta differ, so per-group bugs show.
OPTIMIZERS = {
    "sgd": dict(cls="SGD", defaults=dict(lr=0.1, momentum=0.9),
                groups=({"lr": 0.1, "momentum": 0.9}, {"lr": 0.025, "momentum": 0.6})),
    "adam": dict(cls="Adam", defaults=dict(lr=0.1, betas=[0.9, 0.999]),
                 groups=({"lr": 0.1, "betas": [0.9, 0.999]}, {"lr": 0.025, "betas": [0.8, 0.99]})),
}


@dataclass(frozen=True)
class ScheduleCase:
    id: str
    scheduler: str
    steps: int
    hp: dict = field(hash=False)  # every constructor argument, defaults filled in
    optimizer: str = "sgd"
    metrics: tuple = None  # ReduceLROnPlateau: the metric of each step

    @property
    def groups(self):
        return OPTIMIZERS[self.optimizer]["groups"]


def reference_groups(optimizer):
    """The param groups as the references take them: {"lr", "momentum"} (Adam's beta1 as momentum)."""
    return [{"lr": g["lr"], "momentum": g["momentum"] if "momentum" in g else g["betas"][0]}
            for g in OPTIMIZERS[optimizer]["groups"]]


def _full(name, overrides):
    """Every argument of scheduler ``name``, with defaults; sub-scheduler specs filled in too."""
    module = schedulers.get(name)
    unknown = set(overrides) - set(module.DEFAULTS)
    assert not unknown, f"{name}: not a hyperparameter: {unknown}"
    hp = {**module.DEFAULTS, **overrides}
    assert all(hp[k] is not None for k in module.REQUIRED), f"{name}: required: {module.REQUIRED}"
    for key in getattr(module, "SUB_SCHEDULERS", ()):
        hp[key] = [{"scheduler": s["scheduler"], "hp": _full(s["scheduler"], s["hp"])} for s in hp[key]]
    return hp


def sub(name, **hp):
    return {"scheduler": name, "hp": hp}


def _cases(name, rows):
    out = []
    for row in rows:
        case_id, steps, overrides, *rest = row
        extra = rest[0] if rest else {}
        metrics = tuple(float(m) for m in extra["metrics"]) if "metrics" in extra else None
        if metrics is not None:
            assert len(metrics) == steps, f"{name}/{case_id}: {len(metrics)} metrics for {steps} steps"
        out.append(ScheduleCase(case_id, name, steps, _full(name, overrides), extra.get("optimizer", "sgd"), metrics))
    return out


# Metric sequences for ReduceLROnPlateau. Each comment says what the step is for the case's
# settings; "small" improvements lie between the thresholds that rel and abs would apply.
_MIN_REL = [10.0, 9.0, 8.95, 8.93, 8.92,    # 9.0 better; then three improvements < 1 %: bad, bad, bad -> cut
            8.0, 8.0, 8.5, 8.1,             # better; bad x3 -> cut
            7.95, 7.9, 7.8, 7.7, 7.66,      # 7.95 bad (< 1 % under 8.0), 7.9 better by 1.25 %, 7.8 better
            7.66, 7.66, 7.66, 7.66, 7.5, 7.5]  # 7.7 better by 1.28 %, then a plateau -> cut, improvements
_MIN_ABS = [100.0, 99.7, 99.6, 99.0, 98.8,  # abs threshold 0.5: 99.7 and 99.6 bad -> cut (patience 1); 99.0 better
            98.7, 98.6, 98.4, 97.0, 96.9,   # cooldown 2 ignores bad epochs; 98.4 better (0.6); 97.0 better
            96.8, 96.6, 96.45, 96.3, 95.0,  # bad, bad -> cut; cooldown; 96.45 better (0.55), ...
            95.0, 95.0, 95.0, 94.4, 94.3,
            94.2, 94.0, 93.85, 93.8]
_MAX_REL = [0.50, 0.52, 0.60, 0.61, 0.615, 0.618,  # rel threshold 2 %: 0.52 better (4 %), 0.61 bad (1.7 %)
            0.62, 0.70, 0.71, 0.72, 0.722, 0.725,  # bad x4 -> cut; cooldown 1
            0.73, 0.74, 0.745, 0.75, 0.76, 0.761,
            0.762, 0.763, 0.80, 0.80, 0.80, 0.80,
            0.81, 0.82, 0.83, 0.835, 0.84, 0.84]
_MAX_ABS = [0.50, 0.55, 0.65, 0.66, 0.70, 0.74,  # abs threshold 0.1, patience 0: every bad epoch cuts, until
            0.76, 0.80, 0.79, 0.85, 0.86, 0.95,  # eps stops the cuts (group 0 first at 0.003125)
            0.96, 0.97, 0.98, 0.99]
_DEFAULTS = ([1.0 * (1 - 1e-5) ** k for k in range(13)]             # improvements of 1e-5 (< 1e-4): 11 bad -> cut
             + [0.9, 0.9 * (1 - 1.2e-4), 0.9 * (1 - 1.2e-4) ** 2]     # improvements of 1.2e-4: better
             + [0.9 * (1 - 1.2e-4) ** 2] * 12                        # plateau: cut after 11 bad
             + [0.5 * 0.999 ** k for k in range(12)])                 # steady improvement

GRID = {name: _cases(name, rows) for name, rows in {
    "lambda_lr": [
        ("warmup_then_decay", 15, dict(lr_lambda="warmup5_then_decay")),
        ("per_group", 12, dict(lr_lambda=["warmup5_then_decay", "inverse_sqrt"])),
    ],
    "multiplicative_lr": [
        ("constant_factor", 15, dict(lr_lambda="shrink_0.95")),
        ("per_group", 12, dict(lr_lambda=["grow_then_shrink", "shrink_0.95"])),
    ],
    "step_lr": [
        ("every_3_halve", 20, dict(step_size=3, gamma=0.5)),
        ("default_gamma", 14, dict(step_size=4)),
    ],
    "multi_step_lr": [
        ("repeated_milestone", 14, dict(milestones=[3, 7, 7, 10], gamma=0.5)),
        ("unsorted_default_gamma", 9, dict(milestones=[6, 2])),
    ],
    "constant_lr": [
        ("quarter_for_4", 10, dict(factor=0.25, total_iters=4)),
        ("defaults", 8, dict()),
    ],
    "linear_lr": [
        ("warmup", 12, dict(start_factor=0.2, end_factor=0.9, total_iters=6)),
        ("decay", 9, dict(start_factor=1.0, end_factor=0.1, total_iters=5)),
        ("defaults", 8, dict()),
    ],
    "exponential_lr": [
        ("gamma_0.9", 30, dict(gamma=0.9)),
    ],
    "polynomial_lr": [
        ("quadratic", 12, dict(total_iters=8, power=2.0)),
        ("square_root", 9, dict(total_iters=6, power=0.5)),
        ("defaults", 8, dict()),
    ],
    "cosine_annealing_lr": [
        ("past_t_max_eta_min", 35, dict(T_max=10, eta_min=0.001)),
        ("t_max_7", 20, dict(T_max=7)),
    ],
    "chained_scheduler": [
        ("constant_then_exponential", 12, dict(schedulers=[sub("constant_lr", factor=0.5, total_iters=3),
                                                           sub("exponential_lr", gamma=0.9)])),
        ("cosine_and_step", 20, dict(schedulers=[sub("cosine_annealing_lr", T_max=8, eta_min=0.01),
                                                 sub("step_lr", step_size=3, gamma=0.5)])),
        ("warmup_and_milestones", 14, dict(schedulers=[sub("linear_lr", start_factor=0.25, total_iters=4),
                                                       sub("multi_step_lr", milestones=[6, 10], gamma=0.3)])),
    ],
    "sequential_lr": [
        ("warmup_then_exponential", 12, dict(schedulers=[sub("linear_lr", start_factor=0.1, total_iters=4),
                                                         sub("exponential_lr", gamma=0.8)], milestones=[4])),
        ("three_schedulers", 16, dict(schedulers=[sub("constant_lr", factor=0.3, total_iters=10),
                                                  sub("cosine_annealing_lr", T_max=5, eta_min=0.001),
                                                  sub("multiplicative_lr", lr_lambda="shrink_0.95")],
                                      milestones=[3, 9])),
    ],
    "reduce_lr_on_plateau": [
        ("min_rel", 20, dict(factor=0.5, patience=2, threshold=0.01), dict(metrics=_MIN_REL)),
        ("min_abs_cooldown_min_lr", 24, dict(threshold_mode="abs", threshold=0.5, factor=0.3, patience=1,
                                             cooldown=2, min_lr=[0.004, 0.002]), dict(metrics=_MIN_ABS)),
        ("max_rel_cooldown", 30, dict(mode="max", threshold=0.02, factor=0.2, patience=3, cooldown=1,
                                      min_lr=1e-3), dict(metrics=_MAX_REL)),
        ("max_abs_eps", 16, dict(mode="max", threshold_mode="abs", threshold=0.1, factor=0.5, patience=0,
                                 eps=2e-3), dict(metrics=_MAX_ABS)),
        ("defaults", 40, dict(), dict(metrics=_DEFAULTS)),
    ],
    "cyclic_lr": [
        ("triangular_asymmetric", 25, dict(base_lr=[0.01, 0.002], max_lr=[0.1, 0.02], step_size_up=4,
                                           step_size_down=6)),
        ("triangular2_momentum_per_group", 26, dict(base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=3,
                                                    mode="triangular2", base_momentum=[0.85, 0.7],
                                                    max_momentum=[0.95, 0.9])),
        ("exp_range_adam", 30, dict(base_lr=[0.005, 0.001], max_lr=[0.05, 0.03], step_size_up=5, step_size_down=3,
                                    mode="exp_range", gamma=0.97), dict(optimizer="adam")),
        ("scale_fn_per_cycle", 20, dict(base_lr=0.01, max_lr=0.08, step_size_up=2, step_size_down=3,
                                        scale_fn="inverse_cycle", scale_mode="cycle", cycle_momentum=False)),
        ("scale_fn_per_iteration", 20, dict(base_lr=0.01, max_lr=0.08, step_size_up=3,
                                            scale_fn="decay_0.98", scale_mode="iterations")),
    ],
    "one_cycle_lr": [
        ("cos_two_phase", 20, dict(max_lr=[0.1, 0.04], total_steps=20)),
        ("linear_three_phase_adam", 24, dict(max_lr=[0.05, 0.02], total_steps=24, pct_start=0.25,
                                             anneal_strategy="linear", three_phase=True, div_factor=10.0,
                                             final_div_factor=100.0, base_momentum=[0.8, 0.85],
                                             max_momentum=[0.9, 0.99]), dict(optimizer="adam")),
        ("cos_three_phase", 18, dict(max_lr=0.06, total_steps=18, pct_start=0.35, three_phase=True,
                                     base_momentum=0.8)),
        ("epochs_no_momentum", 24, dict(max_lr=0.08, epochs=4, steps_per_epoch=6, pct_start=0.4,
                                        cycle_momentum=False)),
    ],
    "cosine_annealing_warm_restarts": [
        ("t_mult_2_eta_min", 40, dict(T_0=5, T_mult=2, eta_min=0.001)),
        ("t_0_4", 13, dict(T_0=4)),
    ],
    "swalr": [
        ("cos_per_group", 10, dict(swa_lr=[0.02, 0.05], anneal_epochs=5)),
        ("linear", 8, dict(swa_lr=0.01, anneal_epochs=3, anneal_strategy="linear")),
        ("no_anneal", 4, dict(swa_lr=0.03, anneal_epochs=0)),
        ("default_epochs", 14, dict(swa_lr=0.005)),
    ],
}.items()}

assert set(GRID) == set(schedulers.SCHEDULERS), "every scheduler reference needs cases"


def run_reference(case, variant="torch", num=float):
    """{quantity: rows} of the case's reference (or one of its variants)."""
    return schedulers.schedule(case.scheduler, reference_groups(case.optimizer), case.steps, case.hp,
                               variant=variant, num=num, metrics=case.metrics)


def certificate(case, rows64):
    """Per quantity, the largest |float64 golden - the same schedule at 50 digits| (abs and relative)."""
    import mpmath

    with mpmath.workdps(DIGITS):
        exact = run_reference(case, num=mpmath.mpf)
        out = {}
        for name, rows in rows64.items():
            error = max(abs(a - b) for r64, rx in zip(rows, exact[name]) for a, b in zip(r64, rx))
            scale = max(abs(b) for rx in exact[name] for b in rx) or 1
            out[name] = {"max_abs_error": float(error), "max_rel_error": float(error / scale)}
    return {"digits": DIGITS, **out}


def case_record(case, certify=True):
    rows = run_reference(case)
    meta = {"id": case.id, "scheduler": case.scheduler, "steps": case.steps, "hp": case.hp,
            "optimizer": case.optimizer, "groups": [dict(g) for g in case.groups], "quantities": sorted(rows)}
    if certify:
        meta["certificate"] = certificate(case, rows)
    arrays = {f"{case.id}/{name}": np.array(values, dtype=np.float64) for name, values in rows.items()}
    if case.metrics is not None:
        arrays[f"{case.id}/metrics"] = np.array(case.metrics, dtype=np.float64)
    return meta, arrays


def build(names=None, certify=True, progress=None):
    """{file name: (meta, arrays)} for the named schedulers (default: all)."""
    files = {}
    for name in GRID if names is None else names:
        metas, arrays = [], {}
        for case in GRID[name]:
            meta, case_arrays = case_record(case, certify)
            metas.append(meta)
            arrays.update(case_arrays)
            if progress:
                progress(name, case.id)
        files[FILE.format(name)] = ({"reference": name, "kind": "scheduler", "cases": metas}, arrays)
    return files


@dataclass(frozen=True)
class ScheduleGolden:
    """One golden scheduler case as the check sees it."""
    reference: str
    id: str
    steps: int
    hp: dict
    optimizer: str
    groups: list  # the optimizer's param groups: {"lr", "momentum"} or {"lr", "betas"}
    quantities: dict  # name -> (steps + 1, groups) array
    metrics: np.ndarray  # (steps,) for ReduceLROnPlateau, else None
    golden_error: dict  # name -> certified max abs error of the float64 golden


def load_cases(name, directory=None):
    """Every golden case of scheduler ``name``, checked against the manifest hash, for shape, and
    against its reference (verify_cases)."""
    module = schedulers.get(name)
    directory = store.golden_dir(directory)
    rebuild = store.rebuild_command(directory)
    listed = verify.listed(directory, FILE.format(name), rebuild)
    meta, arrays = store.read(directory, FILE.format(name), rebuild)
    label = directory / FILE.format(name)

    def array(key, shape):
        value = arrays.get(key)
        if value is None or value.shape != shape or value.dtype != np.float64 or not np.isfinite(value).all():
            raise store.GoldenError(f"{label}: array {key} is missing, misshapen or not finite; regenerate with "
                                    f"`{rebuild}`")
        value.flags.writeable = False
        return value

    cases = []
    try:
        for m in meta["cases"]:
            cid, steps, groups = m["id"], m["steps"], m["groups"]
            if set(m["hp"]) != set(module.DEFAULTS) or set(m["quantities"]) != set(module.QUANTITIES):
                raise store.GoldenError(f"{label}:{cid}: hyperparameters or quantities do not match the reference; "
                                        f"regenerate with `{rebuild}`")
            certificate = m.get("certificate", {})
            cases.append(ScheduleGolden(
                reference=name, id=cid, steps=steps, hp=m["hp"], optimizer=m["optimizer"], groups=groups,
                quantities={q: array(f"{cid}/{q}", (steps + 1, len(groups))) for q in m["quantities"]},
                metrics=array(f"{cid}/metrics", (steps,)) if getattr(module, "METRICS", False) else None,
                golden_error={q: certificate.get(q, {}).get("max_abs_error", 0.0) for q in m["quantities"]},
            ))
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise store.GoldenError(f"{label}: malformed case metadata ({error!r}); regenerate with `{rebuild}`") from None
    certificates = {m["id"]: m.get("certificate") for m in meta["cases"]}
    verify.once(directory, FILE.format(name), listed, rebuild,
                lambda: verify_cases(cases, certificates, label, rebuild))
    return cases


def verify_cases(cases, certificates, label, rebuild):
    """Refuse the first case its reference does not reproduce from the stored inputs (golden/verify.py).

    The walk is the generator's own (run_reference) on the stored scheduler hyperparameters,
    optimizer, steps and metrics; the stored param groups must be that optimizer's, which the
    check builds. Rows are compared as the optimizer goldens are, against u (t + 1) M_g, the
    scheduler tolerance's model without its margin (libm's cos and pow may round otherwise on
    another platform). The certificate is cheap here, and walked exactly: it is the 50-digit
    schedule's distance from the stored float64 rows.
    """
    for golden in cases:
        cid = golden.id
        try:
            if golden.groups != [dict(g) for g in OPTIMIZERS[golden.optimizer]["groups"]]:
                verify.refuse(label, cid, f"param groups {golden.groups} are not those of optimizer "
                                          f"{golden.optimizer}, {list(OPTIMIZERS[golden.optimizer]['groups'])}",
                              rebuild)
            metrics = None if golden.metrics is None else tuple(golden.metrics.tolist())
            case = ScheduleCase(cid, golden.reference, golden.steps, golden.hp, golden.optimizer, metrics)
            walked = run_reference(case)
            stored = {q: rows.tolist() for q, rows in golden.quantities.items()}
            derived = certificate(case, stored) if certificates.get(cid) else None
        except verify.WALK_ERRORS as error:
            verify.cannot_walk(label, cid, error, rebuild)
        for quantity, rows in sorted(golden.quantities.items()):
            steps = np.arange(1, rows.shape[0] + 1)[:, None]
            bad = verify.first_beyond(rows, walked[quantity], verify.U * steps * np.abs(rows).max(axis=0))
            if bad:
                step, group, value, reference_value = bad
                verify.refuse(label, cid, f"{quantity} at step {step}, group {group}, is {value!r}, but "
                                          f"{verify.WALKED} {reference_value!r}", rebuild)
        if derived is not None and derived != certificates[cid]:
            verify.refuse(label, cid, f"certificate {certificates[cid]} is not the 50-digit reference's, {derived}",
                          rebuild)

