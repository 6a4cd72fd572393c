"""The diagnosis threshold (optgold.diagnose.THRESHOLD), measured on the mutant catalogue.

    python -m optgold.devtools.diagnosis_threshold [--dtype float64 float32] [--only NAME ...] [--verbose]

(from the repository root, which holds tests/; about a minute a dtype). Every catalogued
mutant, optimizer (tests/mutants, in replay mode; free mode for optimizers that evaluate
their own closure, LBFGS) and scheduler (tests/scheduler_mutants), is checked, and every
failing case gives the ratio

    nearest named variant's distance / the reference's distance

that optgold.diagnose.decide judges. The cases fall in two groups:

- to be named: cases of mutants that compute a named variant of their reference (a
  scheduler mutant's ``variant``; for optimizer mutants, which have no such attribute,
  OPTIMIZER_VARIANTS below; the schedulers' group-0-for-all bug, SCHEDULER_EXTRA), and
  cases where another mutant computes a variant all the same (COINCIDENCES, by the algebra,
  and any case whose float64 run a variant reproduces to rounding, SUSPECT_DISTANCE);
  a case whose nearest variant is not the mutant's own goes to the other group, since
  naming that one would be wrong;
- not to be named: every other case.

It prints the distribution (min, quartiles, max) of log10 ratio in both groups, the
interval of thresholds with the fewest wrong names (then the fewest missed names) and its
geometric middle (with no overlap: the middle of the gap), and the cases on the wrong side
of THRESHOLD, named by mutant, case and mode.
"""
import argparse
import math
import time

from optgold import diagnose, kinds, reference
from optgold.check import Options, check_case
from optgold.reference import capabilities

# Optimizer mutants (tests/mutants) that compute a named variant of their reference, by
# reading the two docstrings side by side. tests/mutants has no ``variant`` attribute yet.
OPTIMIZER_VARIANTS = {
    "AdadeltaEpsOutsideSqrt": "eps_outside_sqrt",
    "AdadeltaAccumulatesAppliedStep": "lr_in_accumulator",
    # Adadelta's update is odd in g (v and u see g^2): negating g + wd p is flipping lr
    "AdadeltaMaximizeAfterDecay": "maximize_on_lr",
    "AdafactorAlphaAfterDecay": "alpha_after_decay",
    "AdagradLrDecayOffByOne": "lr_decay_from_t",
    "AdagradEpsInsideSqrt": "eps_inside_sqrt",
    "AdagradRawGradInSum": "decay_outside_sum",
    "AdamEpsInsideSqrt": "eps_inside_sqrt",
    "AdamMaximizeOnLr": "maximize_on_lr",
    # always coupled: on the cases it fails (decoupled_weight_decay=True) it is Adam <-> AdamW swapped
    "AdamDecoupledFlagIgnored": "decay_swapped",
    "AdamaxEpsOutsideMax": "keras_eps_outside_max",
    # Adamax's update is odd in g (u sees |g|): negating g + wd p is flipping lr
    "AdamaxMaximizeAfterDecay": "maximize_on_lr",
    "AdamWCoupledDecay": "decay_swapped",
    "AdamWEpsInsideSqrt": "eps_inside_sqrt",
    "AdamWMaximizeOnLr": "maximize_on_lr",
    "ASGDScheduleBeforeUpdate": "schedule_before_update",
    "ASGDNoDecayTerm": "no_decay_term",
    "LambNoBiasCorrection": "no_bias_correction",
    "LBFGSHistoryDropsNewest": "history_drops_newest",
    "LBFGSNoCurvatureCheck": "no_curvature_check",
    "LionMomentumFirst": "momentum_first",
    "LionDecayUnscaled": "decay_unscaled",
    "LionBetasSwapped": "betas_swapped",
    "LionMaximizeOnLr": "maximize_on_lr",
    "MuonNormPlusEps": "keller_norm_plus_eps",
    "MuonDocumentedBuffer": "documented_buffer",
    "MuonDecayWithAdjustedLr": "decay_with_adjusted_lr",
    "NAdamScheduleFromZero": "schedule_from_zero",
    "RAdamThresholdOffByOne": "threshold_4",
    "RAdamNoWarmupUpdate": "no_warmup_update",
    "RMSpropEpsInsideSqrt": "eps_inside_sqrt",
    "RMSpropMaximizeOnLr": "maximize_on_lr",
    "RpropPrevKeptOnFlip": "prev_kept_on_flip",
    "RpropMaximizePrevUnflipped": "maximize_prev_unflipped",
    "SGDDampenedFirstStep": "dampened_first_step",
    "SGDDecayOutsideMomentum": "decay_after_momentum",
    # negating the final step is flipping lr: decay and buffer see the unflipped gradient
    "SGDMaximizeNegatesStep": "maximize_on_lr",
    "SparseAdamEpsOnCorrected": "eps_on_corrected",
    "SparseAdamDensified": "dense",
}
# Scheduler mutants that compute the group-0-for-all bug every scheduler is diagnosed for
# (optgold.kinds.scheduler.GROUP_0_FOR_ALL); their ``variant`` may only name the reference's own.
SCHEDULER_EXTRA = {
    "ExponentialLRGroup0": "group_0_for_all",
    "StepLRGroup0": "group_0_for_all",
}
# Mutants that are no variant but compute one on some cases, by the algebra:
# {mutant: (variant, does the case make it that variant, why)}. Those cases should be named.
COINCIDENCES = {
    "SGDWeightDecaySign": ("maximize_on_lr", lambda case: case.hp.get("maximize") and case.hp.get("weight_decay"),
                           "with maximize, -g - wd p = -(g + wd p), and the rest of SGD is linear in it: "
                           "lr's sign flipped"),
    "LambdaLRGroup0BaseLr": ("group_0_for_all", lambda case: isinstance(case.hp.get("lr_lambda"), str),
                             "with one lr_lambda for all groups, base_lr_0 * lambda(t) is group 0's schedule"),
}
# A case of another mutant where the nearest variant reproduces the float64 run to within
# 1e4 unit roundoffs at every step (the variant mutants' own distances reach 6e-10, most
# below 1e-15) is one where the mutant computes that variant, for a reason COINCIDENCES may
# not spell out: its parameters cannot tell the two apart, and naming the variant states a
# fact about the run. It is counted as to be named, in every dtype, and listed.
SUSPECT_DISTANCE = 1e4 * 2.0 ** -53


def _catalogue():
    """[(kind name, mutant name, reference, factory, expected variant or None)]."""
    from tests.mutants import MUTANTS as OPTIMIZER_MUTANTS
    from tests.scheduler_mutants import MUTANTS as SCHEDULER_MUTANTS

    known = {m.name for m in OPTIMIZER_MUTANTS} | {m.name for m in SCHEDULER_MUTANTS}
    stale = (set(OPTIMIZER_VARIANTS) | set(SCHEDULER_EXTRA)) - known
    assert not stale, f"the variant tables name mutants the catalogue no longer has: {sorted(stale)}"
    for name, variant in OPTIMIZER_VARIANTS.items():
        m = next(m for m in OPTIMIZER_MUTANTS if m.name == name)
        assert variant in reference.get(m.reference).VARIANTS, f"{name}: {variant} is no variant of {m.reference}"
    out = [("optimizer", m.name, m.reference, m.cls, OPTIMIZER_VARIANTS.get(m.name)) for m in OPTIMIZER_MUTANTS]
    out += [("scheduler", m.name, m.reference, m.cls, m.variant or SCHEDULER_EXTRA.get(m.name))
            for m in SCHEDULER_MUTANTS]
    return out


def _modes(ref_name, kind):
    if kind.NAME != "optimizer":
        return None
    return ("free",) if capabilities.of(reference.get(ref_name)).closure else ("replay",)


def _distances(kind, case, result, run):
    """{name: distance} of the failing case, the reference's under "torch"; None if not diagnosed."""
    d = result.diagnosis
    if d is not None and d.ranked:
        return {**dict(d.ranked), diagnose.REFERENCE: d.reference_distance}
    if kind.NAME == "scheduler" and run is not None:  # a scheduler kind not yet switched to decide
        observed = run.observed()
        return kind.variant_distances(case, observed) if any(len(r) for r in observed.values()) else None
    return None


def measure(dtype="float64", only=None):
    """One row per failing case of every catalogued mutant."""
    rows = []
    for kind_name, name, ref_name, factory, expected in _catalogue():
        if only and name not in only and ref_name not in only:
            continue
        kind = kinds.KINDS[kind_name]
        options = Options(dtype=dtype, modes=_modes(ref_name, kind))
        for case in kind.cases(ref_name, options):
            earlier = {}
            for mode in kind.modes(case, options):
                result, earlier[mode] = check_case(kind, factory, case, mode, options, earlier)
                if result.status != "failed":
                    continue
                distances = _distances(kind, case, result, earlier[mode])
                coincidence = COINCIDENCES.get(name)
                coincident = bool(coincidence and coincidence[1](case))
                row = {"kind": kind_name, "mutant": name, "reference": ref_name, "case": case.id, "mode": mode,
                       "expected": coincidence[0] if coincident else expected, "coincident": coincident,
                       "diagnosed": distances is not None, "message": result.message}
                if distances is not None:
                    judged = diagnose.decide(distances, {})
                    row.update(best=judged.ranked[0][0] if judged.ranked else None, distance=judged.distance,
                               reference_distance=judged.reference_distance, ratio=judged.ratio,
                               ranked=judged.ranked,
                               expected_distance=distances.get(row["expected"], math.nan) if row["expected"]
                               else math.nan)
                rows.append(row)
    return rows


def _log(x):
    return -math.inf if x == 0 else math.log10(x)


def _quartiles(values):
    """log10 of min, quartiles and max (the nearest order statistics: no interpolation over inf)."""
    if not values:
        return "(none)"
    ordered = sorted(values, key=lambda v: math.inf if math.isnan(v) else v)
    picks = [ordered[round(q * (len(ordered) - 1))] for q in (0, 0.25, 0.5, 0.75, 1.0)]
    return "  ".join(f"{_log(v):7.2f}" for v in picks)


def choose(named, unnamed):
    """(threshold, wrong, missed): the geometric middle of the interval of thresholds with the
    fewest wrong names (ratios in ``unnamed`` at or below it), then the fewest missed names
    (ratios in ``named`` above it). Where the groups do not overlap, that interval is the gap."""
    values = sorted(set(named) | set(unnamed))
    best = None
    for lo, hi in zip([-math.inf] + values, values + [math.inf]):
        wrong = sum(r <= lo for r in unnamed)
        missed = sum(r > lo for r in named)
        if best is None or (wrong, missed) < best[:2]:
            best = (wrong, missed, lo, hi)
    wrong, missed, lo, hi = best
    if lo <= 0:
        threshold = hi / 10 if math.isfinite(hi) else 1.0
    elif not math.isfinite(hi):
        threshold = lo * 10
    else:
        threshold = math.sqrt(lo * hi)
    return threshold, wrong, missed, lo, hi


def _line(r):
    return (f"{r['mutant']} {r['case']} ({r['mode']}): nearest {r['best']} {r['distance']:.3g}, "
            f"reference {r['reference_distance']:.3g}, ratio {r['ratio']:.3g}")


def report(rows, dtype="float64", verbose=False):
    diagnosed = [r for r in rows if r["diagnosed"]]
    variant = [r for r in diagnosed if r["expected"]]
    other = [r for r in diagnosed if not r["expected"]]
    print(f"failing cases: {len(rows)} ({len(rows) - len(diagnosed)} not diagnosed: no step ran); "
          f"variant mutants {len({r['mutant'] for r in variant if not r['coincident']})}, "
          f"other mutants {len({r['mutant'] for r in other})}")
    for r in rows:
        if not r["diagnosed"]:
            print(f"    not diagnosed: {r['mutant']} {r['case']} ({r['mode']}): {r['message'][:160]}")
    coincident = [r for r in variant if r["coincident"] is True]
    print(f"cases of other mutants that compute a variant (COINCIDENCES), to be named: {len(coincident)}")
    for r in coincident:
        print(f"    {_line(r)}")
    found = [r for r in variant if r["coincident"] == "found"]
    if found:
        print(f"cases of other mutants whose float64 run a variant reproduces to {SUSPECT_DISTANCE:.2g} (not in "
              f"COINCIDENCES), to be named: {len(found)}")
        for r in found:
            print(f"    {_line(r)}")
    wrong_best = [r for r in variant if r["best"] != r["expected"]]
    own = [r for r in variant if r["best"] == r["expected"]]
    print(f"variant-mutant cases whose nearest variant is not the mutant's own: {len(wrong_best)} "
          "(naming the nearest would be wrong: judged with the other mutants)")
    for r in wrong_best:
        print(f"    {r['mutant']} {r['case']}: nearest {r['best']} ({r['distance']:.3g}), own {r['expected']} "
              f"({r['expected_distance']:.3g}), reference {r['reference_distance']:.3g}")
    named, unnamed = own, other + wrong_best
    print("log10(nearest variant distance / reference distance):  min      q1  median      q3     max")
    print(f"    should be named (own variant nearest)  {len(named):4} cases: {_quartiles([r['ratio'] for r in named])}")
    print(f"    should not be named                    {len(unnamed):4} cases: "
          f"{_quartiles([r['ratio'] for r in unnamed])}")
    for label, group in (("named", named), ("not named", unnamed)):
        for kind_name in ("optimizer", "scheduler"):
            part = [r["ratio"] for r in group if r["kind"] == kind_name]
            print(f"      {label:9} {kind_name:9} {len(part):4} cases: {_quartiles(part)}")
    print("log10(nearest variant distance), same groups:           min      q1  median      q3     max")
    print(f"    should be named                        {len(named):4} cases: "
          f"{_quartiles([r['distance'] for r in named])}")
    print(f"    should not be named                    {len(unnamed):4} cases: "
          f"{_quartiles([r['distance'] for r in unnamed])}")
    if named and unnamed:
        threshold, wrong, missed, lo, hi = choose([r["ratio"] for r in named], [r["ratio"] for r in unnamed])
        print(f"best interval of thresholds: [{lo:.3g}, {hi:.3g}) with {wrong} wrong names and {missed} missed; "
              f"chosen threshold (its geometric middle): {threshold:.3g}")
        print("    the largest ratios that should be named:")
        for r in sorted(named, key=lambda r: r["ratio"])[-8:]:
            print(f"      {_line(r)}")
        print("    the smallest ratios that should not be named:")
        for r in sorted(unnamed, key=lambda r: r["ratio"])[:8]:
            print(f"      {_line(r)}")
    t = diagnose.THRESHOLD
    wrong = [r for r in unnamed if r["ratio"] <= t]
    missed = [r for r in named if r["ratio"] > t]
    print(f"at optgold.diagnose.THRESHOLD = {t:g}: {len(wrong)} wrong names, {len(missed)} of {len(named)} "
          f"to be named left unnamed, {sum(r['ratio'] > t for r in wrong_best)} of {len(wrong_best)} wrong nearest "
          "variants left unnamed")
    for r in wrong + missed:
        print(f"    {_line(r)}")
    both = [r for r in diagnosed if len(r["ranked"]) > 1
            and diagnose.ratio(r["ranked"][1][1], r["reference_distance"]) <= t]
    print(f"cases with a second variant also within THRESHOLD: {len(both)}")
    for r in both:
        print(f"    {r['mutant']} {r['case']}: {r['ranked'][0]}, {r['ranked'][1]}")
    before = [r for r in unnamed if r["distance"] < r["reference_distance"]]
    print(f"the rule before decide (name the nearest wherever it is below the reference) would name {len(before)} of "
          f"the {len(unnamed)} not to be named")
    ties = [r for r in unnamed if r["ratio"] >= 0.5]
    print(f"not-to-be-named cases whose nearest variant is within a factor 2 of the reference (ties): {len(ties)} "
          f"of {len(unnamed)}")
    if verbose:
        for r in diagnosed:
            print(f"  {r['kind']:9} {r['mutant']:32} {r['case']:28} {r['mode']:8} expected {r['expected']!s:24} "
                  f"nearest {r['best']!s:24} d {r['distance']:.3g} ref {r['reference_distance']:.3g} "
                  f"ratio {r['ratio']:.3g}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtype", nargs="+", default=["float64"], help="float64 (default), float32")
    parser.add_argument("--only", nargs="*", help="mutant or reference names")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    dtypes = ["float64"] + [d for d in args.dtype if d != "float64"]  # float64 finds the coincidences
    found = {}
    for dtype in dtypes:
        start = time.time()
        rows = measure(dtype, args.only)
        if dtype == "float64":
            found = {(r["mutant"], r["case"]): r["best"] for r in rows
                     if r["diagnosed"] and not r["expected"] and r["distance"] <= SUSPECT_DISTANCE}
        for r in rows:
            if (r["mutant"], r["case"]) in found and not r["expected"]:
                r["expected"], r["coincident"] = found[r["mutant"], r["case"]], "found"
                r["expected_distance"] = dict(r["ranked"]).get(r["expected"], math.nan) if r["diagnosed"] else math.nan
        if dtype in args.dtype:
            print(f"== {dtype}, replay mode (LBFGS free), {time.time() - start:.0f} s")
            report(rows, dtype, args.verbose)


if __name__ == "__main__":
    main()
