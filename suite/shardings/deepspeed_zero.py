"""DeepSpeed's ZeRO (stages 1, 2, 3) as an optgold sharding (the protocol of optgold.shardings).

DeepSpeed runs on its CPU accelerator (DS_ACCELERATOR=cpu, set here unless already set) over the rank's
torch.distributed gloo group, which deepspeed.initialize takes as it finds it. IMPL is the client
optimizer: built over the model's parameters, then handed to deepspeed.initialize, which keeps the
object and points its param groups at ZeRO's flat fp32 partitions (one per param group: the group's
parameters flattened, padded and split evenly across the ranks for stages 1 and 2; each parameter
split evenly for stage 3). Its state is keyed by those flat partitions.

Stage: ``DeepSpeedZero1``/``2``/``3`` (deepspeed1, deepspeed2, deepspeed3) fix it. Config: fp16/bf16 off, gradient_clipping 0 (DeepSpeed
0.19's default is 1.0), zero_allow_untested_optimizer (any IMPL), train_micro_batch_size_per_gpu 1,
gradient_accumulation_steps 1.

A step feeds the gradients through DeepSpeed's own path: the engine's forward is sum(p * g) over the
tensors that have one, engine.backward(that) (ZeRO's hooks average it over the ranks: every rank
gives the same g, so the average is g exactly), engine.step(). A tensor in ``absent`` is left out of
the sum, so its .grad stays None; ZeRO still steps its part of the flat partition (one step count per
partition, not per tensor): stages 1 and 2 with a zero gradient, stage 3 with the gradient that tensor
had the step before (seen with deepspeed 0.19.8: exp_avg 0.19 g1 after an absent second step, where
torch keeps 0.1 g1). When every tensor is absent the loss is one no parameter is in, and still goes
through engine.backward: stages 1 and 2 raise IndexError in its gradient reduction (engine.step()
with no backward raises TypeError on all three stages), where torch's step does nothing. Those are
DeepSpeed's behaviours, left for the check to judge. So are empty tensors: ZeRO leaves a tensor with
no elements out of its groups (no state, no step); stage 3 on 2 ranks or more raises ValueError
("torch.cat(): expected a non-empty list of Tensors") gathering one for the first forward.

Reading: every rank gathers each tensor whole (the fragments of it in its flat partitions' state,
summed over the ranks), so params and state are "full" Views that every rank must agree on; a 0-dim
entry of the flat partition's state (Adam's step) is a "same" View. Not through
deepspeed.utils.safe_get_full_optimizer_state: with stages 1 and 2 (deepspeed 0.19.8) it reads a link
to the state that ZeRO makes once, after the first param group's first step, so it raises ValueError
("exp_avg not found in optimizer state fragment") for the tensors of every later group, and TypeError
on a fresh engine before its first step, after a load (DeepSpeed's own engine.load_checkpoint
included); the state it fails to read is right. ZeRO keeps its master weights and state in fp32
(``.float()``) whatever the model's dtype. The parameters read are the model's (stage 3: gathered
with deepspeed.zero.GatheredParameters).

Checkpoints are consolidated: save gathers each tensor's state whole and rank 0 writes it, listed by
the tensor's position in IMPL's param groups; load gives the state saved at each position to the
tensor at that position (torch.optim's load_state_dict's rule), writing each rank's fragment of it
into its flat partitions' state (so a checkpoint from one world size loads into another), and the
fp32 master weights from the parameters the ranks are built from.
Only state that is elementwise (shaped as the flat partition) or 0-dim is consolidated.

Set up: deepspeed==0.19.8 (with torch kept; see the report). DeepSpeed's TorchBackend JIT-builds a
shared-memory C++ op (deepspeed_shm_comm, ninja + g++, ~80 s the first time, cached under
~/.cache/torch_extensions) that only inference_all_reduce uses; it is skipped here
(OPTGOLD_DEEPSPEED_SHM=1 keeps it).
"""
import logging
import os

import torch

from optgold.shardings.base import STATE_FILE, Sharding, View, flat


def _deepspeed(rank):
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    os.environ["LOCAL_RANK"] = str(rank)  # the engine asserts it is set (one rank per process here)
    import importlib

    import deepspeed

    if os.environ.get("OPTGOLD_DEEPSPEED_SHM") != "1":  # inference_all_reduce's op: not on ZeRO's path
        importlib.import_module("deepspeed.comm.torch").build_shm_op = lambda: None
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    deepspeed.utils.logger.setLevel(logging.WARNING)
    return deepspeed


class _Model(torch.nn.Module):
    """The tensors as parameters p0, p1, ...; forward(grads) is sum(p * g) over those with a g. A 0-dim
    tensor is held as shape (1,): the engine's initial broadcast, p.data.view(torch.uint8), raises
    "self.dim() cannot be 0 to view Float as Byte" on a 0-dim parameter."""

    def __init__(self, tensors):
        super().__init__()
        for k, t in enumerate(tensors):
            # contiguous strides: an empty tensor from numpy has stride 0, which the broadcast's view(uint8)
            # refuses (an nn.Parameter of torch.empty(0) has stride 1)
            held = t.clone(memory_format=torch.contiguous_format).reshape(t.shape or (1,))
            self.register_parameter(f"p{k}", torch.nn.Parameter(held))
        self.count = len(tensors)

    def forward(self, *grads):
        terms = [(getattr(self, f"p{k}") * g).sum() for k, g in enumerate(grads) if g is not None]
        return torch.stack(terms).sum() if terms else None


class DeepSpeedZero(Sharding):
    """deepspeed.initialize(model, optimizer=IMPL, zero_optimization.stage S) on DeepSpeed's CPU
    accelerator over gloo: ZeRO's flat fp32 partitions and their state, read back whole per tensor."""
    NAME, NEEDS = "deepspeed", "deepspeed"
    # measured with deepspeed 0.19.8: stages 1 and 2 keep fp32 master weights and state (a float64 Adam is off
    # by about 5e-8 at step 1); stage 3 asserts on a float64 parameter
    DTYPES = {"float32": None, "float64": "DeepSpeed's ZeRO keeps fp32 master weights and optimizer state, "
                                          "whatever the model's dtype: check it with --dtype float32"}

    STAGE = None

    def _shard(self, tensors):
        self.stage, self.deepspeed = self.STAGE, _deepspeed(self.rank)
        self.module = _Model(tensors)
        params = [getattr(self.module, f"p{k}") for k in range(len(tensors))]
        self.held = [(tuple(p.shape), p.dtype) for p in params]  # stage 3 empties p.data
        return params

    def _optimizer(self, factory, specs, hyperparameters):
        """IMPL as DeepSpeed's client optimizer; what ZeRO steps is IMPL (or what ZeRO rebuilt it as), over
        the flat partitions."""
        client = factory(specs, **hyperparameters)
        config = {"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1,
                  "zero_optimization": {"stage": self.stage}, "fp16": {"enabled": False},
                  "bf16": {"enabled": False}, "gradient_clipping": 0.0, "zero_allow_untested_optimizer": True,
                  "steps_per_print": 2 ** 31 - 1, "wall_clock_breakdown": False}
        self.engine, _, _, _ = self.deepspeed.initialize(model=self.module, optimizer=client, config=config)
        self.zero = self.engine.optimizer
        self._groups = {}  # id(param) -> the index of its bit16 group (stages 1, 2)
        for i, group in enumerate(getattr(self.zero, "bit16_groups", ())):
            for p in group:
                self._groups[id(p)] = i
        return self.zero.optimizer

    # the step --------------------------------------------------------------------------------------

    def step(self, grads, absent=()):
        given = [None if k in absent else torch.from_numpy(g).reshape(self.held[k][0]).to(self.held[k][1])
                 for k, g in enumerate(grads)]
        loss = self.engine(*given)
        if loss is None:  # every tensor absent: a loss no parameter is in (with a grad_fn, which
            loss = torch.zeros(1, requires_grad=True).sum()  # backward asserts), so the step still
        self.engine.backward(loss)  # takes engine.backward, as a training loop's would
        self.engine.step()
        if self.scheduler is not None:
            self.scheduler.step()

    # reading ----------------------------------------------------------------------------------------

    def _flat_of(self, p):
        """This rank's flat fp32 partition that holds (a fragment of) ``p``: the key of its state; None for
        a tensor ZeRO leaves out of its groups (deepspeed.runtime.utils.is_optimized_parameter: one with no
        elements), which it neither steps nor keeps state for."""
        if self.stage == 3:
            position = self.zero.grad_position.get(self.zero.get_param_id(p))
            return None if position is None else self.zero.fp32_partitioned_groups_flat[position[0]]
        group = self._groups.get(id(p))
        return None if group is None else self.zero.single_partition_of_fp32_groups[group]

    def _full_param(self, p):
        if self.stage == 3:
            with self.deepspeed.zero.GatheredParameters([p]):
                return p.detach().clone()
        return p.detach()

    def _kinds(self, names):
        """{name: "flat" | "scalar"} of the names the flat partitions' state holds (collective: every
        rank answers the same, a rank with no state for a name takes the others')."""
        import torch.distributed as dist

        found = {}
        for name in names:
            code = 0
            for p in self.params:
                value = self.optimizer.state.get(self._flat_of(p), {}).get(name)
                if isinstance(value, torch.Tensor) and value.dim() == 1 and value.shape == self._flat_of(p).shape:
                    code = max(code, 2)
                elif isinstance(value, (torch.Tensor, int, float)) and not isinstance(value, bool) and (
                        not isinstance(value, torch.Tensor) or value.dim() == 0):
                    code = max(code, 1)
            held = torch.tensor([code])
            dist.all_reduce(held, op=dist.ReduceOp.MAX)
            if held.item():
                found[name] = "flat" if held.item() == 2 else "scalar"
        return found

    def _gathered(self, k, name):
        """Tensor k's elementwise state ``name``, whole: each rank writes the fragments it holds into
        zeros, and the sum over the ranks is the tensor (collective; not safe_get_full_optimizer_state: see above)."""
        import torch.distributed as dist

        p = self.params[k]
        whole = torch.zeros(self.held[k][0], dtype=torch.float32).reshape(-1)
        value = self.optimizer.state.get(self._flat_of(p), {}).get(name)
        if value is not None:
            for at, start, count in self._fragments(p):
                whole[start:start + count] = value[at:at + count]
        dist.all_reduce(whole)
        return whole

    def local(self, names):
        """(a full View per tensor, {name: [View per tensor]}): each gathered whole on every rank."""
        params = [View("full", flat(self._full_param(p))) for p in self.params]
        state = {}
        for name, kind in self._kinds(names).items():
            views = []
            for k, p in enumerate(self.params):
                if kind == "flat":
                    views.append(View("full", flat(self._gathered(k, name))))
                else:
                    value = self.optimizer.state.get(self._flat_of(p), {}).get(name)
                    views.append(None if value is None else View("same", flat(torch.as_tensor(value))))
            state[name] = views
        return params, state

    def owners(self):
        return [None] * len(self.params)

    # checkpoints ------------------------------------------------------------------------------------

    def save(self, directory):
        kinds = self._kinds(sorted({n for p in self.params for n in self.optimizer.state.get(self._flat_of(p), {})}))
        tensors = []
        for k in self.position:
            p, entry = self.params[k], {}
            for name, kind in kinds.items():
                if kind == "flat":
                    entry[name] = self._gathered(k, name)
                else:
                    value = self.optimizer.state.get(self._flat_of(p), {}).get(name)
                    if value is not None:  # None: a tensor ZeRO does not optimize
                        entry[name] = value.detach().clone() if isinstance(value, torch.Tensor) else value
            tensors.append(entry)
        other = [n for p in self.params for n in self.optimizer.state.get(self._flat_of(p), {}) if n not in kinds]
        if other:
            raise NotImplementedError(f"DeepSpeed ZeRO: state {sorted(set(other))} is neither elementwise nor a "
                                      "scalar, and is not consolidated")
        groups = [{k: v for k, v in g.items() if k != "params"} for g in self.optimizer.param_groups]
        if self.rank == 0:
            torch.save({"tensors": tensors, "param_groups": groups}, f"{directory}/{STATE_FILE}")
        self.save_scheduler(directory)

    def _fragments(self, p):
        """[(start in the flat partition, start in p flattened, count)] of what this rank holds of p."""
        if self._flat_of(p) is None:
            return []
        if self.stage == 3:
            _, offset, count = self.zero.grad_position[self.zero.get_param_id(p)]
            size = p.ds_tensor.ds_numel
            start = self.rank * size
            return [(offset, start, max(0, min(count, p.ds_numel - start)))]
        mapping = getattr(p, "_hp_mapping", None)
        if mapping is None:
            return []
        return [(mapping.hp_fragment_address.start, mapping.lp_fragment_address.start,
                 mapping.lp_fragment_address.numel)]

    def load(self, directory):
        held = torch.load(f"{directory}/{STATE_FILE}", weights_only=True)
        flats = {}
        for k, entry in zip(self.position, held["tensors"]):  # by position, as torch's load_state_dict
            flat = self._flat_of(self.params[k])
            if flat is None:  # a tensor ZeRO does not optimize: nowhere to hold its state
                continue
            state = flats.setdefault(id(flat), (flat, {}))[1]
            for name, value in entry.items():
                if isinstance(value, torch.Tensor) and value.dim():
                    into = state.setdefault(name, torch.zeros_like(flat))
                    source = value.reshape(-1).to(flat.dtype)
                    for at, start, count in self._fragments(self.params[k]):
                        into[at:at + count] = source[start:start + count]
                else:
                    state[name] = value.clone() if isinstance(value, torch.Tensor) else value
        for flat, state in flats.values():
            self.optimizer.state[flat] = state
        for group, saved in zip(self.optimizer.param_groups, held["param_groups"]):
            group.update(saved)
        self.load_scheduler(directory)


class DeepSpeedZero1(DeepSpeedZero):
    NAME, STAGE = "deepspeed1", 1
    DESCRIPTION = "DeepSpeed ZeRO stage 1 (optimizer state partitioned) wrapping IMPL, CPU accelerator, gloo"


class DeepSpeedZero2(DeepSpeedZero):
    NAME, STAGE = "deepspeed2", 2
    DESCRIPTION = "DeepSpeed ZeRO stage 2 (+ gradients partitioned) wrapping IMPL, CPU accelerator, gloo"


class DeepSpeedZero3(DeepSpeedZero):
    NAME, STAGE = "deepspeed3", 3
    DESCRIPTION = "DeepSpeed ZeRO stage 3 (+ parameters partitioned) wrapping IMPL, CPU accelerator, gloo"
