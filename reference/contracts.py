"""Contracts: what happens around the steps of a run, and what the algorithm computes then.

A contract case is a run with events. The events are data (a golden stores them as
JSON), and each one is torch.optim's documented behaviour:

    absent   [[step, [tensors]], ...]   those tensors' .grad is None at that step. torch skips
             a parameter without a gradient entirely: it does not move (no weight decay
             either), its state does not change and its step count does not advance.
             Every tensor absent is a step that changes nothing.
    zeroed   [[step, [tensors]], ...]   those tensors' gradient is exactly zero: an ordinary
             step, so momentum decays, weight decay applies and the step count advances.
    skipped  [steps]   the scaled gradients overflowed (AMP): GradScaler skips
             optimizer.step(), so nothing changes, and a scheduler stepped the way
             GradScaler's documentation says (only after a step that was taken) does
             not advance either.
    joins    [[tensor, step], ...]   the tensor's param group is added with add_param_group
             before that step; until then it is not optimized, then it starts with fresh
             state, its step count from 1.
    restart  [steps]   before that step the optimizer is rebuilt over fresh parameters and
             loads the state_dict it saved: nothing the algorithm computes changes.
    reorder  [positions]   at each restart the new optimizer gets its parameters in this
             order. load_state_dict matches state by position in param_groups, not by
             tensor: new position i takes the state saved for old position i, so tensor
             reorder[i] carries on with the state of tensor i.

A step skipped by GradScaler also leaves the learning-rate schedule where it was: the
schedule's row for a step is the number of steps taken before it.
"""
from dataclasses import dataclass, field

KEYS = ("absent", "zeroed", "skipped", "joins", "restart", "reorder")


@dataclass(frozen=True)
class Events:
    absent: dict = field(default_factory=dict)  # step -> frozenset of tensors
    zeroed: dict = field(default_factory=dict)  # step -> frozenset of tensors
    skipped: frozenset = frozenset()
    joins: dict = field(default_factory=dict)  # tensor -> step
    restart: tuple = ()
    reorder: tuple = None

    @classmethod
    def of(cls, raw):
        """Events from their JSON form (None or {}: none); ValueError for anything else."""
        raw = raw or {}
        if not isinstance(raw, dict) or set(raw) - set(KEYS):
            raise ValueError(f"events {raw!r}: the keys are {', '.join(KEYS)}")

        def by_step(key):
            return {int(step): frozenset(int(k) for k in tensors) for step, tensors in raw.get(key, ())}

        reorder = raw.get("reorder")
        return cls(by_step("absent"), by_step("zeroed"), frozenset(int(s) for s in raw.get("skipped", ())),
                   {int(k): int(step) for k, step in raw.get("joins", ())}, tuple(int(s) for s in raw.get("restart", ())),
                   None if reorder is None else tuple(int(k) for k in reorder))

    def stepped(self, k, step):
        """Does tensor k take optimizer step ``step`` (1-based)?"""
        return (step not in self.skipped and k not in self.absent.get(step, ())
                and step >= self.joins.get(k, 1))

    def zero(self, k, step):
        return k in self.zeroed.get(step, ())

    def member(self, k, step):
        """Is tensor k in the optimizer at step ``step``?"""
        return step >= self.joins.get(k, 1)

    def counts(self, tensors, steps):
        """Per step (rows 1..steps), each tensor's step count after it; None until its first step
        (torch creates a parameter's state on its first step with a gradient)."""
        rows, count = [], [0] * tensors
        for step in range(1, steps + 1):
            count = [c + self.stepped(k, step) for k, c in enumerate(count)]
            rows.append([c or None for c in count])
        return rows

    def schedule_rows(self, steps):
        """Per step, the row of the LR schedule it uses: the steps taken before it."""
        rows, taken = [], 0
        for step in range(1, steps + 1):
            rows.append(taken)
            taken += step not in self.skipped
        return rows

    def positions_after(self, step):
        """The restart permutation applied before ``step``: the new state of tensor reorder[i] is
        the old state of tensor i. None where nothing is permuted."""
        return self.reorder if self.reorder and step in self.restart else None

    @property
    def neutral(self):
        """Events that leave the plain trajectory as it is (restarts without reordering, or none)."""
        return not (self.absent or self.zeroed or self.skipped or self.joins or self.reorder)
