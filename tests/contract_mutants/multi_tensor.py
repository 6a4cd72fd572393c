"""Adam, AdamW and SGD over lists, as torch's foreach and fused paths run, then one contract bug per mutant.

The skeleton (``MultiTensor``) is torch's multi-tensor one:

- a param group's parameters with a gradient are split by (device, dtype), as
  ``_group_tensors_by_device_and_dtype`` does, and each split is stepped on its own;
- the step counts of a split are advanced with one foreach op, maximize and weight decay
  are foreach ops over the split's lists;
- the per-element math runs in kernel launches packed the way ``multi_tensor_apply``
  packs them: tensors are added to a block chunk by chunk, and a launch happens when
  the block holds MAX_TENSORS tensors or at the last chunk of the last tensor;
- like torch's fused Adam they set ``_step_supports_amp_scaling``: GradScaler hands them
  ``grad_scale`` (None once ``unscale_`` has run) and ``found_inf``; they divide the
  gradients by grad_scale, and where found_inf is set they leave params and state as
  they were and take the step count back, as ``_fused_adam`` does.

The per-element math is the for-loop classes' (tests/contract_mutants/adam.py, sgd.py),
so the correct classes here pass where those do. Each mutant overrides one method and
differs from it in one place, marked ``# BUG``.
"""
import torch

from tests.contract_mutants.adam import Adam, AdamW
from tests.contract_mutants.sgd import SGD

MAX_TENSORS = 3  # tensors per launch (multi_tensor_apply's depth_to_max_tensors, made small so that it matters)
CHUNK = 2 ** 16  # elements per chunk: each tensor here is one chunk, or none when it is empty


class MultiTensor:
    """The multi-tensor skeleton; a subclass gives ``dtype_step(group, params, grad_scale, found_inf)``."""

    _step_supports_amp_scaling = True  # GradScaler hands over grad_scale and found_inf, as to torch's fused Adam

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.multi_tensor_step(getattr(self, "grad_scale", None), getattr(self, "found_inf", None))
        return loss

    def multi_tensor_step(self, grad_scale, found_inf):
        for group, params in self.lists():
            for p in params:
                if not self.state[p]:
                    self.init_state(p, self.state[p], group)
            for same_dtype in self.by_dtype(params):
                self.dtype_step(group, same_dtype, grad_scale, found_inf)

    def lists(self):
        """Each param group with its parameters that have a gradient, as they stand at this step."""
        return [(group, self.with_grad(group)) for group in self.param_groups]

    @staticmethod
    def by_dtype(params):
        splits = {}
        for p in params:
            splits.setdefault((p.device, p.dtype), []).append(p)
        return list(splits.values())

    def skipped(self, grad_scale, found_inf):
        """GradScaler found an inf or NaN in the scaled gradients: the kernel returns at once."""
        return found_inf is not None and bool(found_inf)

    def unscaled(self, params, grad_scale):
        grads = [p.grad for p in params]
        return grads if grad_scale is None else torch._foreach_div(grads, grad_scale)

    def launches(self, sizes):
        """Which tensors (indices) each kernel launch updates, for tensors of these sizes."""
        out, block = [], []
        tensors = [k for k, n in enumerate(sizes) if n]  # no chunk, no launch: empty tensors left out (pytorch#109402)
        for position, k in enumerate(tensors):
            block.append(k)
            chunks = -(-sizes[k] // CHUNK)
            for chunk in range(chunks):
                tensors_full = len(block) == MAX_TENSORS and chunk == chunks - 1
                last_chunk = position == len(tensors) - 1 and chunk == chunks - 1
                if tensors_full or last_chunk:
                    out.append(block)
                    block = []
        return out


class MultiTensorAdam(MultiTensor, Adam):
    """Correct Adam over lists, fused-style under GradScaler (torch's foreach and fused Adam)."""

    def dtype_step(self, group, params, grad_scale, found_inf):
        steps = [self.state[p]["step"] for p in params]
        self.count_(group, params)
        if not self.skipped(grad_scale, found_inf):
            grads = self.decay_(group, params, self.unscaled(params, grad_scale))
            for launch in self.launches([p.numel() for p in params]):
                for k in launch:
                    self.update(params[k], grads[k], self.state[params[k]], group, self.bias_step(params, k))
        self.uncount_(steps, found_inf)

    def count_(self, group, params):
        torch._foreach_add_([self.state[p]["step"] for p in params], 1)

    def uncount_(self, steps, found_inf):
        """A skipped step does not count: found_inf (1 or 0) taken back from each count, as _fused_adam does."""
        if found_inf is not None:
            torch._foreach_sub_(steps, [found_inf] * len(steps))

    def bias_step(self, params, k):
        """The count the kernel's bias correction of tensor k uses: its own."""
        return self.state[params[k]]["step"]

    def decay_(self, group, params, grads):
        """maximize and weight decay over one dtype split's lists (decoupled decay into its params)."""
        lr, wd = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                torch._foreach_mul_(params, 1 - lr * wd)
            else:
                grads = torch._foreach_add(grads, params, alpha=wd)
        return grads


class MultiTensorAdamW(MultiTensorAdam, AdamW):
    """Correct AdamW over lists, fused-style under GradScaler."""


class MultiTensorSGD(MultiTensor, SGD):
    """Correct SGD over lists, fused-style under GradScaler (torch's foreach and fused SGD)."""

    def init_state(self, p, state, group):
        pass  # the momentum buffer is made on the first step, from the gradient

    def dtype_step(self, group, params, grad_scale, found_inf):
        if self.skipped(grad_scale, found_inf):
            return
        grads = self.unscaled(params, grad_scale)
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if group["weight_decay"] != 0:
            grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
        if group["momentum"] != 0:
            grads = self.momentum_(group, params, grads)
        for launch in self.launches([p.numel() for p in params]):
            torch._foreach_add_([params[k] for k in launch], [grads[k] for k in launch], alpha=-group["lr"])

    def momentum_(self, group, params, grads):
        momentum, dampening = group["momentum"], group["dampening"]
        bufs = [self.state[p].get("momentum_buffer") for p in params]
        if all(buf is not None for buf in bufs):
            self.decay_buffers_(group, bufs)
            torch._foreach_add_(bufs, grads, alpha=1 - dampening)
        else:
            for k, (p, buf) in enumerate(zip(params, bufs)):
                if buf is None:
                    bufs[k] = self.state[p]["momentum_buffer"] = torch.clone(grads[k]).detach()
                else:
                    buf.mul_(momentum).add_(grads[k], alpha=1 - dampening)
        return torch._foreach_add(grads, bufs, alpha=momentum) if group["nesterov"] else bufs

    def decay_buffers_(self, group, bufs):
        torch._foreach_mul_(bufs, group["momentum"])


# ----------------------------------------------------------------------------------------- empty_tensors


class EmptyLastTensorSkipsLaunch(MultiTensorAdam):
    """multi_tensor_apply without its zero-size fix: launches are triggered from the chunk loop, an empty
    tensor has no chunk, so when the last tensor of a split is empty the tensors packed since the last
    launch are never updated (pytorch#100701, fixed by #100811 and #109402; TransformerEngine#3202 and
    #3207, fixed by PR #3212)."""

    def launches(self, sizes):
        out, block = [], []
        tensors = list(range(len(sizes)))  # BUG: empty tensors are packed too, and have no chunk to launch at
        for position, k in enumerate(tensors):
            block.append(k)
            chunks = -(-sizes[k] // CHUNK)
            for chunk in range(chunks):
                tensors_full = len(block) == MAX_TENSORS and chunk == chunks - 1
                last_chunk = position == len(tensors) - 1 and chunk == chunks - 1
                if tensors_full or last_chunk:
                    out.append(block)
                    block = []
        return out


class SGDEmptyLastTensorSkipsLaunch(MultiTensorSGD):
    """SGD over the same launcher without its zero-size fix (TransformerEngine PR #3212 fixed FusedAdam and
    FusedSGD together)."""

    launches = EmptyLastTensorSkipsLaunch.launches  # BUG: as EmptyLastTensorSkipsLaunch


# -------------------------------------------------------------------------------------------------- amp


class IgnoresFoundInf(MultiTensorAdam):
    """The fused kernel never reads found_inf: a step GradScaler found inf or NaN in is taken, with the
    non-finite gradient (pytorch PR #186360: the MPS fused Adam ignored found_inf and grad_scale)."""

    def skipped(self, grad_scale, found_inf):
        return False  # BUG: found_inf is not consulted


class NotUnscaled(MultiTensorAdam):
    """The fused kernel ignores grad_scale: the gradients stay multiplied by the loss scale (2**10 and
    more), so weight decay and eps weigh 1/scale as much as they should (pytorch PR #186360's other half)."""

    def unscaled(self, params, grad_scale):
        return [p.grad for p in params]  # BUG: never divided by grad_scale


class StepCountOnSkippedStep(MultiTensorAdam):
    """The step counts advanced before the kernel are not taken back on a skipped step (torch's _fused_adam
    subtracts found_inf after the kernel): the bias correction runs ahead by one per overflow."""

    def uncount_(self, steps, found_inf):
        pass  # BUG: a skipped step still counts


class SkipsByZeroLr(MultiTensorAdam):
    """A skip written without a host sync, as for CUDA graphs: the lr is multiplied by (1 - found_inf)
    instead of the kernel returning. The parameters would keep still, but the moments take the inf or NaN
    gradient (and the update inf * 0 is NaN)."""

    def dtype_step(self, group, params, grad_scale, found_inf):
        steps = [self.state[p]["step"] for p in params]
        self.count_(group, params)
        if found_inf is not None:
            group = {**group, "lr": group["lr"] * (1 - found_inf.double())}  # BUG: the moments still take the step
        grads = self.decay_(group, params, self.unscaled(params, grad_scale))
        for launch in self.launches([p.numel() for p in params]):
            for k in launch:
                self.update(params[k], grads[k], self.state[params[k]], group, self.bias_step(params, k))
        self.uncount_(steps, found_inf)


class FoundInfIgnoredAfterUnscale(MultiTensorAdam):
    """found_inf is honoured only together with grad_scale: after scaler.unscale_ (as gradient clipping
    calls it) GradScaler hands over grad_scale None, and the overflowed step is taken (pytorch#95781,
    fixed by PR #95847 / #96106)."""

    def skipped(self, grad_scale, found_inf):
        return grad_scale is not None and found_inf is not None and bool(found_inf)  # BUG: needs grad_scale


class UnscalesTwiceAfterUnscale(MultiTensorAdam):
    """Written to GradScaler's older contract, step(grad_scaler=...), it divides by the scaler's scale
    without looking at the scaler's stage: after scaler.unscale_ the gradients are unscaled a second time
    (pytorch PR #94060: fused Adam should consult OptState before unscaling)."""

    @torch.no_grad()
    def step(self, closure=None, grad_scaler=None):
        if grad_scaler is None:
            return super().step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        found_inf = sum(v.to(torch.float32) for v in grad_scaler._check_inf_per_device(self).values())
        grad_scale = grad_scaler._get_scale_async()  # BUG: the gradients may have been unscaled already
        self.multi_tensor_step(grad_scale, found_inf)
        return loss


class SGDIgnoresFoundInf(MultiTensorSGD):
    """A fused SGD kernel that never reads found_inf: the overflowed step is taken (as IgnoresFoundInf)."""

    def skipped(self, grad_scale, found_inf):
        return False  # BUG: found_inf is not consulted


# ------------------------------------------------------------------------------------------ group_added


class GroupListsCachedOnFirstStep(MultiTensorAdam):
    """The param groups are gathered into the optimizer's lists on the first step and kept (a flat-buffer
    optimizer's cache): a group added later with add_param_group is never stepped."""

    def lists(self):
        self.cached = getattr(self, "cached", None) or list(self.param_groups)  # BUG: never rebuilt
        return [(group, self.with_grad(group)) for group in self.cached]


class SGDGroupListsCachedOnFirstStep(MultiTensorSGD):
    """SGD over lists with the param groups cached on the first step (as GroupListsCachedOnFirstStep)."""

    lists = GroupListsCachedOnFirstStep.lists  # BUG: as GroupListsCachedOnFirstStep


# ----------------------------------------------------------------------------------------- missing_grad


class BiasCorrectionFromLastParameter(MultiTensorAdam):
    """Every tensor of a dtype split is bias-corrected with the step count of the split's last tensor, as
    if all stepped together (DeepSpeed PR #8471, FusedAdam): a tensor frozen for k steps and unfrozen is
    corrected with the others' count instead of its own."""

    def bias_step(self, params, k):
        return self.state[params[-1]]["step"]  # BUG: the last tensor's count for all


# ----------------------------------------------------------------------------------------- mixed_dtypes


class DecayOncePerDtypeSplit(MultiTensorAdamW):
    """Decoupled weight decay over the whole group's parameters, inside the loop over dtype splits: with
    float32 and float64 tensors in one group every tensor is decayed twice (timm PR #2750, SGDW's foreach
    path)."""

    def decay_(self, group, params, grads):
        lr, wd = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                torch._foreach_mul_(self.with_grad(group), 1 - lr * wd)  # BUG: the group's params, not the split's
            else:
                grads = torch._foreach_add(grads, params, alpha=wd)
        return grads


class StepCountOncePerDtypeSplit(MultiTensorAdam):
    """The step counts of the whole group are advanced inside the loop over dtype splits: a group of two
    dtypes counts two per step (DeepSpeed PR #8471: FusedAdam's counter advanced once per dtype)."""

    def count_(self, group, params):
        torch._foreach_add_([self.state[p]["step"] for p in self.with_grad(group)], 1)  # BUG: not the split's


class SGDMomentumDecayedPerDtypeSplit(MultiTensorSGD):
    """The momentum buffers of the whole group are decayed inside the loop over dtype splits: with two
    dtypes each buffer is multiplied by the momentum twice per step (timm PR #2750's bug, on momentum)."""

    def decay_buffers_(self, group, bufs):
        everyone = [self.state[p]["momentum_buffer"] for p in self.with_grad(group)
                    if "momentum_buffer" in self.state[p]]
        torch._foreach_mul_(everyone, group["momentum"])  # BUG: the group's buffers, not the split's
