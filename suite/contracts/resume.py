"""resume: a job restarted from a checkpoint carries on exactly where it stopped.

After step k the optimizer's state_dict() (and the scheduler's, saved alongside) goes
through torch.save and torch.load(weights_only=True, map_location="cpu"), as a checkpoint
file does, and is loaded into a fresh optimizer (and scheduler) over fresh parameter
tensors holding the same values. The algorithm computes what it would have without the
restart, so the base golden judges it; the loaded state must also keep the dtype, shape
and device it was saved with (the adapter checks each tensor).

k = 1 (the state has just been made), 10 (the warm-restart schedule restarts at step 11)
and 20 (amsgrad's running maximum has been set, where the reference keeps one).

Loaded in another order: torch.optim's load_state_dict matches state to parameters by
position in param_groups, never by tensor, so parameters given in reversed order take
the state saved for whatever stood at their position. That is what torch documents and
does; the reordered golden is the reference run with the state moved that way
(reference/contracts.py), so an implementation that matches by shape, by name or not at
all fails it.

What ships broken here: a step count kept outside ``state`` or reset on load, a buffer
cast to another dtype or device on load, state still aliasing the old parameters, a
scheduler whose state is not restored.
"""
NAME = "resume"
DESCRIPTION = ("state_dict() after step k through torch.save/torch.load(weights_only=True) into a fresh optimizer "
               "and scheduler, k = 1, 10, 20, and in reversed parameter order")


def rows(module):
    return [(f"after_{k}", "base", {"restart": [k + 1]}, {}) for k in (1, 10, 20)] + [
        ("reordered_after_12", "reordered", {}, {})]
