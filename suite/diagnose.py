"""Which named variant of the reference, if any, explains an observed trajectory.

Each variant (and known bug) of the reference is replayed in plain Python on the
golden gradients, exactly as the implementation was in replay mode, and its distance
to what the implementation did is measured (``distance``). ``decide`` then judges those
distances, the same way for every kind of check (optimizer cases here, schedulers in
optgold.kinds.scheduler, the CIFAR run in optgold.cifar.diagnose):

- a variant is named only when it explains the run decisively: its distance is at most
  THRESHOLD times the reference's own distance;
- otherwise the diagnosis says that no named variant explains the run, and shows the two
  nearest with their distances, and the reference's.

THRESHOLD, from the mutant catalogue (python -m optgold.devtools.diagnosis_threshold,
from the repository root; add ``--dtype float64 float32`` for float32 too, about 1 min
a dtype). Every catalogued mutant is checked (tests/mutants in replay mode, LBFGS free;
tests/scheduler_mutants), and each failing case gives the ratio nearest named variant's
distance / reference's distance. In float64, 621 failing cases:

- 283 cases should be named: mutants that compute a named variant (a scheduler mutant's
  ``variant``, the optimizer mutants the script's OPTIMIZER_VARIANTS maps, two group-0
  scheduler bugs) and 5 cases where another mutant computes one (SGDWeightDecaySign with
  maximize is maximize_on_lr; LambdaLRGroup0BaseLr with one lr_lambda is group_0_for_all;
  LBFGSHDiagInverted on two strong-Wolfe Rosenbrock cases matches no_hessian_scaling to
  1.5e-16). log10 ratio: min -inf (distance 0), q1 -inf, median -15.3, q3 -13.4; the
  largest 3.4e-4 (AdagradEpsInsideSqrt, a bug 3e-13 off the reference, against rounding
  1e-16), then 5 MuonDocumentedBuffer cases at 0.13 to 1.3: that bug is invisible in the
  parameters (Newton-Schulz removes the buffer's scale; reference distance 7e-16 to 2e-14),
  so no ratio can name it;
- 338 cases should not be named: the other mutants, and 3 group-0 scheduler cases whose
  nearest variant is not theirs. log10 ratio: min -2.77 (1.7e-3: RAdamRhoInfOffByOne,
  1.2e-3 from threshold_4), q1 -0.05, median 0.00, q3 0.00, max 0.48; 298 of them are ties
  within a factor 2 of the reference, and the rule before decide (name the nearest wherever
  it is below the reference) named 223 of them.

Apart from those 5 Muon cases the groups do not overlap: the gap [3.4e-4, 1.7e-3) has 0 wrong names and 5 misses (the
Muon cases above), and THRESHOLD is its geometric middle, 7.65e-4, rounded to 7.5e-4:
a factor 2.2 from either edge. The gap is narrow because the catalogue holds both a bug
whose whole effect is 3e-13 (named at 3.4e-4: rounding over effect) and a bug that
differs from a variant by 2e-3 relative (not to be named). In float32 (588 failing cases)
the wrong-name edge is the same 1.7e-3 and THRESHOLD again names nothing wrong; 26 of 251
cases to be named stay unnamed there: bugs whose effect on the parameters is within about
1e3 float32 roundings (reference distance below 1e-3), free-run LBFGS, and the Muon ties.
The nearest variant is still shown first. torch.optim.Muon itself in float32 is one such:
6 of its 7 failing cases are named bfloat16_newton_schulz, the seventh is at 1.9e-3.
"""
import math
from dataclasses import dataclass

import numpy as np

from optgold import reference
from optgold.reference import problems, trajectory

REFERENCE = "torch"  # the name of the reference itself among a reference's VARIANTS
THRESHOLD = 7.5e-4  # name a variant only if its distance <= THRESHOLD * the reference's distance


def ratio(distance, reference_distance):
    """distance / reference_distance, as decide judges it: 1 for a tie (0 and 0 included), inf
    where the reference is at distance 0 but the variant is not, inf for anything not a number."""
    if distance == reference_distance:
        return 1.0
    if math.isnan(distance) or math.isnan(reference_distance) or reference_distance == 0 or math.isinf(distance):
        return math.inf
    return distance / reference_distance


@dataclass(frozen=True)
class Diagnosis:
    variant: str  # the named variant that explains the run, or None: none does
    description: str  # that variant's description ("" when none explains the run)
    distance: float  # the nearest named variant's (optgold.diagnose.distance for optimizer cases)
    reference_distance: float  # the same for the reference itself (nan: it could not be computed)
    ranked: tuple = ()  # ((name, distance), ...): every named variant, nearest first (the reference excluded)
    threshold: float = THRESHOLD  # the ratio at or below which a variant is named

    @property
    def explained(self):
        return self.variant not in (None, REFERENCE)

    @property
    def nearest(self):
        """The two nearest named variants, ((name, distance), ...), nearest first."""
        return self.ranked[:2]

    @property
    def ratio(self):
        """The nearest named variant's distance over the reference's (1: no closer than the reference)."""
        return ratio(self.distance, self.reference_distance)

    def describe(self):
        reference_part = f"reference {self.reference_distance:.2g}"
        if self.explained:
            also = [f"{name} ({d:.2g})" for name, d in self.ranked[1:]
                    if ratio(d, self.reference_distance) <= self.threshold]
            also_part = f"; as close: {', '.join(also)}" if also else ""
            return (f"explained by named variant {self.variant} — {self.description} "
                    f"(distance {self.distance:.2g}; {reference_part}{also_part})")
        rule = f"a variant is named at {self.threshold:.2g} x the reference's distance or less"
        if not self.ranked:
            return f"no named variant explains it: none could be computed on this case ({reference_part})"
        nearest = ", ".join(f"{name} (distance {d:.2g})" for name, d in self.nearest)
        return f"no named variant explains it: nearest {nearest}; {reference_part} ({rule})"


def decide(distances, descriptions, threshold=THRESHOLD):
    """The Diagnosis from ``distances``: {name: distance to the observed run}, the reference's own
    under "torch", and ``descriptions``: {name: description} of the named variants.

    The nearest named variant is named when its distance is at most ``threshold`` times the
    reference's; otherwise none is. Ties between variants go to the first in ``distances``'
    order. Returns None when ``distances`` names no candidate at all.
    """
    if not distances:
        return None
    reference_distance = float(distances.get(REFERENCE, math.nan))
    ranked = tuple(sorted(((name, float(d)) for name, d in distances.items() if name != REFERENCE),
                          key=lambda item: math.inf if math.isnan(item[1]) else item[1]))
    if not ranked:
        return Diagnosis(None, "", math.nan, reference_distance, (), threshold)
    best, distance = ranked[0]
    if ratio(distance, reference_distance) <= threshold:
        return Diagnosis(best, descriptions.get(best, ""), distance, reference_distance, ranked, threshold)
    return Diagnosis(None, "", distance, reference_distance, ranked, threshold)


def distance(observed, candidate):
    """How far ``observed`` rows (steps) are from a candidate's: the max over rows of
    |observed - candidate|_inf / max(|observed|_inf, |candidate|_inf).

    0 for equal rows, rounding level for a candidate that computes what the implementation
    did, at most 2 otherwise, inf where either is not finite. The scale is symmetric on
    purpose: a run that blows up is about 1 from a reference that stays bounded, not
    |observed| / |reference|, so a ratio to the reference's distance can be small only if
    the variant's own distance is small. A 1-D pair is one row.
    """
    observed, candidate = np.atleast_2d(np.asarray(observed, dtype=np.float64)), np.atleast_2d(
        np.asarray(candidate, dtype=np.float64))
    rows = min(len(observed), len(candidate))
    if rows == 0:
        return math.inf
    observed, candidate = observed[:rows], candidate[:rows]
    with np.errstate(all="ignore"):
        difference = np.abs(observed - candidate).max(axis=1)
        scale = np.maximum(np.abs(observed).max(axis=1), np.abs(candidate).max(axis=1)) + 1e-300
        return float(np.nan_to_num(difference / scale, nan=np.inf).max())


def variant_distances(case, observed_params):
    """{variant: distance} for every variant of the case's reference ("torch" included)."""
    optimizer = reference.get(case.reference)
    problem = problems.get(case.problem, case.negate)
    steps = len(observed_params) - 1
    grads = case.grads[:steps].tolist()
    distances = {}
    for variant in optimizer.VARIANTS:
        try:
            params, _, _ = trajectory.run(optimizer, problem, case.hp, steps, variant=variant, grads=grads,
                                          **case.run_args())
        except (OverflowError, ZeroDivisionError, ValueError):
            continue  # a variant that blows up on this case is no candidate
        distances[variant] = distance(observed_params, params)
    return distances


def diagnose(case, observed_params):
    """The Diagnosis of an optimizer case's observed parameter rows (the start first), or None."""
    if len(observed_params) < 2:
        return None
    return decide(variant_distances(case, observed_params), reference.get(case.reference).VARIANTS)
