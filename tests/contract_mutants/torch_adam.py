"""torch.optim.Adam itself with one method overridden: bugs in the code around a correct kernel.

torch.optim.Adam is the correct base; each mutant overrides load_state_dict and differs
from torch's in one place, marked ``# BUG``.
"""
import torch


class ForgetsStateOnLoad(torch.optim.Adam):
    """load_state_dict keeps the hyperparameters and drops the per-parameter state (a checkpoint
    format that saves only param_groups): the moments and step counts start again."""

    def load_state_dict(self, state_dict):
        super().load_state_dict({**state_dict, "state": {}})  # BUG: the state is not restored


class LoadsStateInHalfPrecision(torch.optim.Adam):
    """The loaded moments pass through bfloat16 (a checkpoint written in low precision to save space)
    and come back in their own dtype, rounded."""

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for state in self.state.values():
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                if key in state:
                    state[key] = state[key].to(torch.bfloat16).to(state[key].dtype)  # BUG: rounded to bfloat16


class StepCastToParameterDtypeOnLoad(torch.optim.Adam):
    """load_state_dict casts every state tensor to its parameter's dtype, ``step`` included, as torch
    itself once did (pytorch#74424; the same special case for fused steps is pytorch#103256): a float32
    parameter's step count comes back float32, and stops counting exactly past 2**24."""

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for p, state in self.state.items():
            if torch.is_tensor(state.get("step")):
                state["step"] = state["step"].to(p.dtype)  # BUG: the step count is not the parameter's kind
