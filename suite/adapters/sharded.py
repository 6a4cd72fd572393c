"""A sharded optimizer on torch.distributed: N ranks (optgold.ranks), one sharding (optgold.shardings).

Each step, every rank is given the golden gradient of what it holds and steps; then the
parameters and state are put back together from what each rank holds, and judged against the
golden as one process's are. Putting them together checks the sharding too:

- a tensor every rank keeps whole (ZeRO's parameters) must be the same on every rank; its
  value is its owner's, the rank that updates it;
- rows (FSDP2's shards) must cover the tensor; a rank that holds none of a state the others
  hold has its rows read as NaN, so the judgement finds them;
- a value every rank keeps (a step count) must agree across ranks.

A disagreement is a ContractBreach naming the ranks. A divergence is named with the rank
whose shard holds its element (``name_rank``). ``restart`` saves the state the sharding's way
and loads it into ``resume_world_size`` ranks (default: as many), which is how a job is resumed
on another number of machines.

Not run here (NotImplementedError, so the case is skipped with the reason): closures, sparse
gradients, CUDA, and the contracts that build something other than plain float tensors in one
param group list (a group added later, complex views, tensor hyperparameters, AMP, mixed
dtypes, a default dtype of lower precision): ``not_applicable`` says why, for each.
"""
import shutil
import tempfile

import numpy as np
import torch

from optgold import ranks
from optgold.runner import DTYPES

UNSUPPORTED = {"held_back": "a param group added later", "tensor_dtypes": "tensors of mixed dtypes",
               "complex_view": "complex parameters", "tensor_hyperparameters": "tensor hyperparameters",
               "amp": "GradScaler's steps", "default_dtype": "another default dtype"}
RANK_TIMEOUT = 10.0  # seconds a rank has to answer a command, or half the check's --timeout where one is given
_POOLS = {}  # (world size, sharding, factory id) -> ranks.Pool: the ranks serve every case of a check


def _pool(world, factory, settings):
    key = (world, settings["sharding"], id(factory))
    pool = _POOLS.get(key)
    if pool is None or not pool.alive:
        if pool is not None:
            pool.close()
        pool = _POOLS[key] = ranks.Pool(world, factory, settings["sharding"], settings.get("port", 0),
                                        settings.get("timeout", RANK_TIMEOUT))
    return pool


class ShardedAdapter:
    """optgold.adapters' protocol over ranks; ``sharding``: {"world_size", "sharding", "resume_world_size",
    "port", "timeout"} (optgold.check.Options' sharded fields)."""

    def __init__(self, factory, hyperparameters, start, shapes, dtype, device, sparse=False, state_on_first=False,
                 groups=(), schedule=None, sharding=None, **contract):
        for name, value in contract.items():
            if value:
                raise NotImplementedError(f"the sharded adapter does not run {UNSUPPORTED.get(name, name)}")
        for unsupported, what in ((sparse, "sparse gradients"), (state_on_first, "closures"),
                                  (str(device) != "cpu", f"device {device} (gloo, on the CPU)")):
            if unsupported:
                raise NotImplementedError(f"the sharded adapter does not run {what}")
        self.factory, self.settings, self.shapes = factory, dict(sharding), [tuple(s) for s in shapes]
        self.hyperparameters, self.groups, self.schedule = hyperparameters, groups, schedule
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.dtype, self.steps_taken, self.names = DTYPES[dtype], 0, ()
        self.layouts = []  # (first step, world size, per tensor [(rank, start row, stop row)]) as the run went
        self._build(self.settings["world_size"], np.asarray(start, dtype=np.float64))
        self.built_groups = self.pool.call("hyperparameter_groups")[0]

    def _build(self, world, flat, order=None):
        self.world = world
        self.pool = _pool(world, self.factory, self.settings)
        tensors = [torch.from_numpy(v.copy()).reshape(s).to(self.dtype) for v, s in zip(self._split(flat), self.shapes)]
        self.owners = self.pool.call("build", self.hyperparameters, tensors, self.groups, self.schedule, order)[0]
        self.views = self.pool.call("local", self.names)
        self.layouts.append((self.steps_taken, world, self._layout()))

    def _split(self, flat):
        edges = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        return [flat[edges[k]:edges[k + 1]] for k in range(len(self.sizes))]

    def _layout(self):
        """Per tensor, which rank holds which rows: (rank, start, stop), stop None for the whole tensor."""
        out = []
        for k in range(len(self.shapes)):
            pieces = [(r, v.start, v.stop) for r, (params, _) in enumerate(self.views) for v in [params[k]]
                      if v.kind == "rows" and v.stop > v.start]
            out.append(pieces or ([(self.owners[k], 0, None)] if self.sizes[k] else []))
        return out

    def step(self, flat_grad, absent=(), overflow=None):
        if overflow:
            raise NotImplementedError("the sharded adapter does not run GradScaler's steps")
        grads = self._split(np.asarray(flat_grad, dtype=np.float64))
        self.views = self.pool.call("step_and_read", grads, tuple(absent), self.names)
        self.steps_taken += 1

    def step_closure(self, evaluate):
        raise NotImplementedError("the sharded adapter does not run closures")

    def set_lr(self, lr):
        self.pool.call("set_lr", lr)

    def hyperparameter_groups(self):
        return self.built_groups

    def add_group(self, tensor):
        raise NotImplementedError("the sharded adapter does not run a param group added later")

    def restart(self, order=None):
        """The state saved the sharding's way (ZeRO: consolidated on rank 0; FSDP2: torch.distributed.checkpoint)
        from these ranks, loaded into ``resume_world_size`` fresh ranks' fresh optimizer."""
        directory = tempfile.mkdtemp(prefix="optgold-checkpoint-")
        try:
            self.pool.call("save", directory)
            flat = self.flat_params()
            self._build(self.settings.get("resume_world_size") or self.world, flat, order)
            self.pool.call("load", directory)
            self.views = self.pool.call("local", self.names)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def flat_params(self):
        return np.concatenate([self._joined(k, [params[k] for params, _ in self.views], "params")
                               for k in range(len(self.shapes))])

    def flat_state(self, names):
        names = tuple(names)
        if not set(names) <= set(self.names):  # read from now on, with every step
            self.names = tuple(dict.fromkeys(self.names + names))
            self.views = self.pool.call("local", self.names)
        found = {}
        for name in names:
            per_rank = [state.get(name) for _, state in self.views]
            if all(s is None for s in per_rank):
                continue
            found[name] = [self._joined(k, [s[k] if s else None for s in per_rank], name)
                           for k in range(len(self.shapes))]
        return found

    def quantized_state(self, names):
        return {}

    def step_counts(self):
        steps = self.flat_state(("step",)).get("step")
        return [None if v is None or v.size != 1 else float(v[0]) for v in steps or [None] * len(self.shapes)]

    def _joined(self, k, views, what):
        """One tensor's values from every rank's View of it (None: that rank holds none)."""
        from optgold.check import ContractBreach

        held = [(r, v) for r, v in enumerate(views) if v is not None]
        if not held:
            return None
        kinds = {v.kind for _, v in held}
        if kinds == {"rows"}:
            rows = self.shapes[k][0] if self.shapes[k] else 1
            per_row = self.sizes[k] // rows if rows else 0
            out = np.full(self.sizes[k], np.nan)
            for _, v in held:
                out[v.start * per_row:v.stop * per_row] = v.values
            return out
        whole = [(r, v.values) for r, v in held if v.kind in ("full", "same")]
        owner = self.owners[k] if self.owners[k] is not None else whole[0][0]
        reference = next((values for r, values in whole if r == owner), whole[0][1])
        for r, values in whole:
            if values.shape != reference.shape:
                raise ContractBreach(f"ranks disagree on {what} of tensor {k} after step {self.steps_taken}: rank "
                                     f"{r} holds {values.size} elements, rank {owner} {reference.size}")
            differ = np.flatnonzero(~((values == reference) | (np.isnan(values) & np.isnan(reference))))
            if differ.size:
                i = int(differ[0])
                raise ContractBreach(f"ranks disagree on {what} of tensor {k} after step {self.steps_taken}: element "
                                     f"{i} is {values[i]:.17g} on rank {r} and {reference[i]:.17g} on rank {owner}, "
                                     f"which {'updates it' if self.owners[k] is not None else 'is read'} "
                                     f"({differ.size} of {values.size} elements differ)")
        return reference

    def shards(self):
        return self.layouts

    def engine_notes(self):
        """One line: the sharding, its ranks, and any resume onto another number of them."""
        (_, world, _), resumed = self.layouts[0], [(first, w) for first, w, _ in self.layouts[1:]]
        return [f"sharded: {self.settings['sharding']} on {world} ranks (gloo, {ranks.HOST})"
                + "".join(f", resumed on {w} after step {first}" for first, w in resumed)]

# contracts whose cases build what no sharding here takes: why each is not run sharded
NOT_SHARDED = {"tensor_hp": "tensor hyperparameters are not run sharded",
               "complex": "complex parameters are not run sharded",
               "amp": "GradScaler's steps are not run sharded",
               "group_added": "a param group added later is not run sharded (fully_shard fixes its parameters "
                              "when it wraps them)",
               "mixed_dtypes": "tensors of mixed dtypes are not run sharded",
               "low_precision": "another default dtype is not run sharded (the ranks keep the check's, from "
                                "when they started)"}


def not_applicable(case, options):
    """Why ``case`` is not run sharded, or None."""
    from optgold import reference
    from optgold.reference import capabilities

    held = capabilities.of(reference.get(case.reference))
    if held.closure:
        return "a closure re-evaluates the problem inside the step: the sharded adapter feeds one gradient"
    if held.sparse_gradients:
        return "sparse gradients are not run sharded"
    if case.contract in NOT_SHARDED:
        return NOT_SHARDED[case.contract]
    if (case.setting or {}).get("other"):
        return NOT_SHARDED["mixed_dtypes"]
    from optgold.shardings import SHARDINGS

    refused = getattr(SHARDINGS[options.sharding], "DTYPES", {}).get(options.dtype)
    if refused:
        return refused
    if (case.events or {}).get("reorder") and options.sharding == "fsdp2":
        return ("fsdp2 checkpoints (torch.distributed.checkpoint) match state to parameters by name; the golden "
                "moves it by position, as torch.optim's load_state_dict does")
    return None


def settings(options):
    """The adapter's ``sharding`` keyword from a check's Options; a rank waits for the others at most half
    a case's time limit, so that a hang is named before the case's own limit ends the process."""
    return {"world_size": options.world_size, "sharding": options.sharding,
            "resume_world_size": options.resume_world_size, "port": options.master_port,
            "timeout": options.timeout / 2 if options.timeout else RANK_TIMEOUT}


def name_rank(divergence, layouts):
    """``divergence`` with the rank that holds its element added to what it says (optgold.compare)."""
    from dataclasses import fields

    from optgold.compare import Finding

    if divergence is None or not layouts or divergence.tensor < 0:
        return divergence
    world, layout = ([(w, lay) for first, w, lay in layouts if first < divergence.step] or [layouts[0][1:]])[-1]
    row = divergence.index[0] if divergence.index else 0
    holders = [r for r, start, stop in layout[divergence.tensor] if stop is None or start <= row < stop]
    if not holders or holders[0] is None:
        return divergence
    values = {f.name: getattr(divergence, f.name) for f in fields(divergence) if f.name != "text"}
    return Finding(**values, text=f"{divergence.describe()} (held by rank {holders[0]} of {world})")
