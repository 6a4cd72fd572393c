"""Sequential sampling for the gate: when to look, how many pairs to add, when to stop.

Look k brings every still-open workload to ``first * GROWTH**k`` pairs (k < LOOKS),
judging each with suite/bench/gate.py's levels for one look. A workload leaves the
sampling once it has a verdict; the run stops when none is open, when one is slower
(the exit is 1 whatever the others show), when the looks are used up, or when the
budget cannot pay for another pair. A look the budget cannot pay for in full is
taken with the pairs it can pay for, priced at each workload's seconds per pair in
its latest batch (a machine that has slowed down is priced as it is now): the
levels hold for a look at any size fixed before its data are seen. The first look
always runs, since until then there is no price; a machine that slows down during
a look can overrun the budget by that look.

Geometric looks keep their number small (each costs level) while the last ones,
where a hard case is decided, are large.

The loop is vectorized over replications, so that the real gate (one replication,
suite/bench/gaterun.py) and its simulation (thousands, suite/bench/selfcheck.py) are
the same code. ``sample(add, open)`` adds ``add[rep]`` pairs to every open workload
of each replication and returns (#(r <= 0), #(r >= log(1 + threshold)), seconds)
for those pairs, each of shape (replications, workloads).
"""
from dataclasses import dataclass

import numpy as np

from optgold.bench import gate

GROWTH = 1.6
RUNNING, ALL_JUDGED, SLOWER_FOUND, BUDGET_SPENT, LOOKS_USED = range(5)
WHY = {BUDGET_SPENT: "budget spent", LOOKS_USED: "every look used",
       SLOWER_FOUND: "sampling stopped, another workload is slower"}


def schedule(first, looks=gate.LOOKS, growth=GROWTH):
    """Pairs per workload after each look."""
    targets = [first]
    for _ in range(looks - 1):
        targets.append(max(targets[-1] + 1, int(round(targets[-1] * growth))))
    return targets


@dataclass
class Outcome:
    codes: np.ndarray  # (replications, workloads) gate verdict codes
    pairs: np.ndarray  # (replications, workloads) pairs each workload was judged on
    looks: np.ndarray  # (replications, workloads) looks at each workload
    spent: np.ndarray  # (replications, workloads) sampling time per workload
    stopped: np.ndarray  # (replications,) why sampling stopped: ALL_JUDGED, SLOWER_FOUND, ...

    @property
    def seconds(self):
        """(replications,) sampling time to the run's verdict."""
        return self.spent.sum(axis=1)

    @property
    def verdicts(self):
        """(replications,) the run's verdict code."""
        return gate.exit_verdict(self.codes)


def run(sample, replications, workloads, first, levels, budget, looks=gate.LOOKS):
    """The looks for ``replications`` gate runs at once; ``levels`` are one look's (gate.Levels.split)."""
    shape = (replications, workloads)
    codes = np.full(shape, gate.INCONCLUSIVE)
    is_open = np.ones(shape, bool)
    pairs, looked = np.zeros(shape, int), np.zeros(shape, int)
    not_above_zero, above_threshold, spent = np.zeros(shape, int), np.zeros(shape, int), np.zeros(shape)
    price = np.zeros(shape)  # seconds per pair in each workload's latest batch
    stopped = np.full(replications, RUNNING)
    cut = np.zeros(replications, bool)  # the last look was cut short by the budget
    for look, target in enumerate(schedule(first, looks)):
        running = stopped == RUNNING
        if not running.any():
            break
        have = pairs.max(axis=1)  # open workloads of a replication share their pair count
        add = np.where(running, target - have, 0)
        if look:
            per_pair = np.where(is_open, price, 0).sum(axis=1)  # a pair of every open workload
            left = budget - spent.sum(axis=1)
            affordable = np.floor(np.clip(left / np.maximum(per_pair, 1e-12), 0, 1e9)).astype(int)
            cut = running & (affordable < add)
            add = np.where(running, np.minimum(add, affordable), 0)
            out_of_budget = running & (add < 1)
            stopped[out_of_budget] = BUDGET_SPENT
            running &= ~out_of_budget
            add = np.where(running, add, 0)
        sampling = is_open & running[:, None]
        below, above, seconds = sample(add, sampling)
        pairs += np.where(sampling, add[:, None], 0)
        not_above_zero += np.where(sampling, below, 0)
        above_threshold += np.where(sampling, above, 0)
        spent += np.where(sampling, seconds, 0)
        price = np.where(sampling & (add[:, None] > 0), seconds / np.maximum(add, 1)[:, None], price)
        looked += sampling
        judged = np.where(sampling, gate.classify(pairs, not_above_zero, above_threshold, levels), gate.INCONCLUSIVE)
        codes = np.where(sampling, judged, codes)
        is_open &= ~(sampling & (judged != gate.INCONCLUSIVE))
        slower = running & (codes == gate.SLOWER).any(axis=1)
        stopped[slower] = SLOWER_FOUND
        stopped[running & ~slower & ~is_open.any(axis=1)] = ALL_JUDGED
    stopped[(stopped == RUNNING) & cut] = BUDGET_SPENT
    stopped[stopped == RUNNING] = LOOKS_USED
    return Outcome(codes, pairs, looked, spent, stopped)
