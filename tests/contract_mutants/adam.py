"""Adam and AdamW written by hand as torch.optim.Adam's for-loop path, then one contract bug per mutant.

``Adam`` follows torch.optim.Adam (``_single_tensor_adam``) in everything a contract
looks at: a parameter whose ``.grad`` is None is skipped; state is made on a parameter's
first step, with ``step`` a 0-dim float32 tensor (float64 under a float64 default dtype)
whatever torch's default dtype is; complex parameters, their gradients and state are
updated as their view_as_real; lr and betas may be 0-dim tensors (beta1 cast to the
parameter's dtype where it meets a buffer, as torch does); zero-size and 0-dim tensors
are ordinary tensors; the state round-trips through state_dict. Under GradScaler it is
an ordinary (non-fused) optimizer: the scaler unscales and skips for it.

Each mutant overrides one small method and differs from it in one place, marked ``# BUG``.
"""
import torch
from torch.optim import Optimizer


def scalar_dtype():
    """The dtype torch.optim keeps ``step`` in: float64 under a float64 default, else float32."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def as_real(tensor):
    """A complex tensor as its view_as_real (torch's rule for complex parameters); others as they are."""
    return torch.view_as_real(tensor) if tensor is not None and torch.is_complex(tensor) else tensor


class Adam(Optimizer):
    """Correct Adam: coupled or decoupled weight decay, amsgrad, maximize; as torch.optim.Adam's for-loop path."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in self.with_grad(group):
                state = self.state[p]
                if not state:
                    self.init_state(p, state, group)
                self.count(state)
                self.update(p, self.decayed(p, p.grad, group), state, group)
        return loss

    def with_grad(self, group):
        """The parameters that take this step: those with a gradient."""
        return [p for p in group["params"] if p.grad is not None]

    def init_state(self, p, state, group):
        state["step"] = torch.tensor(0.0, dtype=scalar_dtype())
        state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def count(self, state):
        state["step"] += 1

    def hyperparameters(self, group):
        """(lr, beta1, beta2): floats, or the group's 0-dim tensors."""
        beta1, beta2 = group["betas"]
        return group["lr"], beta1, beta2

    def decayed(self, p, grad, group):
        """maximize and weight decay: the gradient the moments take (decoupled decay goes into p)."""
        lr, wd = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        return grad

    def moments_(self, p, grad, state, beta1, beta2):
        """Both moments updated in place; (param, exp_avg, exp_avg_sq) returned as real views."""
        p, grad, exp_avg, exp_avg_sq = (as_real(t) for t in (p, grad, state["exp_avg"], state["exp_avg_sq"]))
        exp_avg.lerp_(grad, 1 - (beta1.to(p.dtype) if torch.is_tensor(beta1) else beta1))  # torch's pytorch#140601 cast
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        return p, exp_avg, exp_avg_sq

    def bias_corrections(self, step, beta1, beta2):
        step = step.item()
        return 1 - beta1 ** step, 1 - beta2 ** step

    def step_size(self, lr, bias_correction1):
        return lr / bias_correction1

    def update(self, p, grad, state, group, step=None):
        """One parameter's Adam update from its decayed gradient; ``step``: the count its bias correction
        uses (its own, state["step"], unless given)."""
        lr, beta1, beta2 = self.hyperparameters(group)
        p, exp_avg, exp_avg_sq = self.moments_(p, grad, state, beta1, beta2)
        bias_correction1, bias_correction2 = self.bias_corrections(state["step"] if step is None else step, beta1,
                                                                   beta2)
        if group["amsgrad"]:
            max_exp_avg_sq = as_real(state["max_exp_avg_sq"])
            torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
        denom = (exp_avg_sq.sqrt() / bias_correction2 ** 0.5).add_(group["eps"])
        p.addcdiv_(exp_avg, denom, value=-self.step_size(lr, bias_correction1))


class AdamW(Adam):
    """Correct AdamW: Adam with decoupled weight decay, as torch.optim.AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)


# ---------------------------------------------------------------------------------------------- resume


class StepCountOutsideState(Adam):
    """The step counter is kept on the optimizer object, which no state_dict carries: after a
    restart the bias correction starts again from step 1 while the moments are warm."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    @torch.no_grad()
    def step(self, closure=None):
        self.calls += 1
        return super().step(closure)

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        del state["step"]

    def count(self, state):
        pass

    def update(self, p, grad, state, group, step=None):
        super().update(p, grad, state, group, step=torch.tensor(float(self.calls)))  # BUG: outside the checkpoint


class StepCountResetOnLoad(Adam):
    """load_state_dict restores the moments but starts the step count again, as a checkpoint that
    does not carry it (DeepSpeed PR #4396: ZeRO 1/2 did not save step; transformers#24708)."""

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for state in self.state.values():
            state["step"] = torch.zeros_like(state["step"])  # BUG: the count is reset, the moments are kept


class LoadsOnlyTheState(Adam):
    """load_state_dict restores the per-parameter state and keeps the param groups this optimizer was
    built with: the lr the schedule had reached is replaced by the initial one until the scheduler
    next sets it (a resumed run whose lr jumps back to its initial value)."""

    def load_state_dict(self, state_dict):
        built = [{k: v for k, v in group.items() if k != "params"} for group in self.param_groups]
        super().load_state_dict(state_dict)
        for group, hyperparameters in zip(self.param_groups, built):
            group.update(hyperparameters)  # BUG: the saved hyperparameters (the scheduled lr) are overwritten


# ----------------------------------------------------------------------------------------- missing_grad


class NoneGradAsZero(Adam):
    """A parameter whose .grad is None steps with a zero gradient (as if zero_grad(set_to_none=False)
    had run, or a wrapper filled the unused gradients): a frozen tensor keeps moving on its momentum
    and its weight decay, and its step count advances."""

    def with_grad(self, group):
        for p in group["params"]:
            if p.grad is None:
                p.grad = torch.zeros_like(p)  # BUG: None treated as zero
        return list(group["params"])


class StepCountForEveryParameter(Adam):
    """Every parameter of the group gets state and counts the step, with or without a gradient (a
    foreach port that gathers state_steps from the whole group, not from the parameters with a
    gradient): a frozen tensor's count runs on, so once unfrozen its bias correction is wrong."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:  # BUG: state made and counted for a parameter without a gradient
                    if not self.state[p]:
                        self.init_state(p, self.state[p], group)
                    self.count(self.state[p])
        return super().step(closure)


class ZeroGradAsMissing(Adam):
    """A gradient that is exactly zero is skipped as if it were None (a sparse-minded shortcut): the
    step that should decay the momentum, apply weight decay and count is not taken."""

    def with_grad(self, group):
        return [p for p in group["params"] if p.grad is not None and p.grad.any()]  # BUG: zero is not None


class AdamWDecaysWithoutGrad(AdamW):
    """Decoupled weight decay applied to every parameter of the group before the gradient check: a
    frozen tensor (.grad None) still shrinks."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    p.mul_(1 - group["lr"] * group["weight_decay"])  # BUG: decayed without a gradient
        return super().step(closure)


# ---------------------------------------------------------------------------------------- empty_tensors


class NonFiniteGuardByMax(Adam):
    """A guard that leaves out a tensor whose gradient holds an inf or NaN, written with the gradient's
    absolute maximum: max() of a zero-size tensor raises ("Expected reduction dim to be specified for
    input.numel() == 0"), so a model with an empty parameter cannot step."""

    def with_grad(self, group):
        return [p for p in group["params"]
                if p.grad is not None and torch.isfinite(p.grad.abs().max())]  # BUG: max() of an empty tensor


# -------------------------------------------------------------------------------------------- tensor_hp


class TensorLrCachedOnFirstStep(Adam):
    """A tensor lr is copied once, on the first step, for the kernel (as a device copy would be) and the
    copy is kept: the scheduler's in-place fill_ of the group's lr never reaches the update."""

    def hyperparameters(self, group):
        lr, beta1, beta2 = super().hyperparameters(group)
        if torch.is_tensor(lr):
            lr = group.setdefault("lr_copy", lr.clone())  # BUG: made once, never refreshed
        return lr, beta1, beta2


class TensorLrAugmentedAssignment(Adam):
    """``step_size = lr; step_size /= bias_correction1``: harmless on a float, but on a tensor lr it
    divides the group's own lr in place, so each later parameter of the group sees it divided again."""

    def step_size(self, lr, bias_correction1):
        step_size = lr
        step_size /= bias_correction1  # BUG: in place on a tensor lr: the group's lr itself is divided
        return step_size


class TensorLrInFloat32(Adam):
    """A tensor lr is converted with .float(), as for a kernel that takes float32 scalars: a float64
    lr is rounded to float32."""

    def hyperparameters(self, group):
        lr, beta1, beta2 = super().hyperparameters(group)
        if torch.is_tensor(lr):
            lr = lr.float()  # BUG: a float64 tensor lr rounded to float32
        return lr, beta1, beta2


class TensorBetasInFloat32(Adam):
    """Tensor betas are converted with .float() for the kernel: 1 - beta2 loses digits in float32 (0.01
    carries beta2's rounding error times 100)."""

    def hyperparameters(self, group):
        lr, beta1, beta2 = super().hyperparameters(group)
        if torch.is_tensor(beta2):
            beta2 = beta2.float()  # BUG: a float64 tensor beta2 rounded to float32
        return lr, beta1, beta2


# ---------------------------------------------------------------------------------------------- complex


class ComplexSquareNoConj(Adam):
    """The second moment of a complex parameter is accumulated as g * g on the complex tensors, before
    the real view (not g * conj(g), nor per real component): complex, and negative in its real view."""

    def moments_(self, p, grad, state, beta1, beta2):
        complex_ = torch.is_complex(p)
        if complex_:
            state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # BUG: complex g * g
        p, grad, exp_avg, exp_avg_sq = (as_real(t) for t in (p, grad, state["exp_avg"], state["exp_avg_sq"]))
        exp_avg.lerp_(grad, 1 - (beta1.to(p.dtype) if torch.is_tensor(beta1) else beta1))
        if not complex_:
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        return p, exp_avg, exp_avg_sq


class ComplexModulusSecondMoment(Adam):
    """The second moment of a complex parameter is |g|^2 = g * conj(g) on the complex tensors (the
    "complex Adam" of the literature) instead of torch's one second moment per real component: its
    real part holds re^2 + im^2 and its imaginary part 0."""

    def moments_(self, p, grad, state, beta1, beta2):
        complex_ = torch.is_complex(p)
        if complex_:
            state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad.conj(), value=1 - beta2)  # BUG: |g|^2
        p, grad, exp_avg, exp_avg_sq = (as_real(t) for t in (p, grad, state["exp_avg"], state["exp_avg_sq"]))
        exp_avg.lerp_(grad, 1 - (beta1.to(p.dtype) if torch.is_tensor(beta1) else beta1))
        if not complex_:
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        return p, exp_avg, exp_avg_sq


class AdamWComplexSquareNoConj(AdamW):
    """AdamW with the complex second moment accumulated as g * g (ComplexSquareNoConj's bug)."""

    moments_ = ComplexSquareNoConj.moments_  # BUG: as ComplexSquareNoConj


# ---------------------------------------------------------------------------------------- group_added


class OneStepCountPerOptimizer(Adam):
    """One step count for the whole optimizer, kept in param_groups[0] (so that a checkpoint carries
    it; Apex's FusedAdam keeps group['step']) instead of one per parameter: a group added at step 11
    starts its bias correction at 11."""

    @torch.no_grad()
    def step(self, closure=None):
        first = self.param_groups[0]
        first["step"] = first.get("step", 0) + 1
        return super().step(closure)

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        del state["step"]

    def count(self, state):
        pass

    def update(self, p, grad, state, group, step=None):
        step = torch.tensor(float(self.param_groups[0]["step"]))  # BUG: the optimizer's count, not the parameter's
        super().update(p, grad, state, group, step)


# -------------------------------------------------------------------------------------- low_precision


class StepInDefaultDtype(Adam):
    """The step counter is made with torch.tensor(0.0), in torch's default dtype: under a bfloat16
    default it stops at 256 (256 + 1 rounds to 256), under float16 at 2048, and the bias correction
    freezes with it (torchao PR #4915, pytorch#110940; DeepSpeed PR #8496 for ZenFlow's Adam)."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        state["step"] = torch.tensor(0.0)  # BUG: torch's default dtype, not float32


class AdamWStepInDefaultDtype(AdamW):
    """AdamW with the step counter in torch's default dtype (torchao PR #4915 is torchao's _AdamW)."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        state["step"] = torch.tensor(0.0)  # BUG: torch's default dtype, not float32


class BetaPowerInDefaultDtype(Adam):
    """The bias correction is computed on tensors made with torch.tensor(beta), as a capturable path
    keeps it on the device: in torch's default dtype, so under bfloat16 beta2 = 0.999 is 1.0 and
    1 - beta2**t is 0."""

    def bias_corrections(self, step, beta1, beta2):
        beta1, beta2 = torch.tensor(beta1), torch.tensor(beta2)  # BUG: torch's default dtype
        return (1 - beta1 ** step).item(), (1 - beta2 ** step).item()


class StateInDefaultDtype(Adam):
    """The moments are made with torch.zeros(p.shape), in torch's default dtype, instead of zeros_like(p):
    under a bfloat16 default every moment of a float64 parameter is kept in bfloat16."""

    def init_state(self, p, state, group):
        super().init_state(p, state, group)
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            if name in state:
                state[name] = torch.zeros(p.shape)  # BUG: torch's default dtype, not the parameter's
