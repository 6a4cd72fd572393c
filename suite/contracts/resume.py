"""resume: a job restarted from a checkpoint carries on exactly where it stopped.

After step k the optimizer's state_dict() (and the scheduler's, saved alongside) goes
through torch.save and torch.load(weights_only=True, map_location="cpu"), as a checkpoint
file does, and is loaded into a fresh optimizer (and scheduler) over fresh parameter
tensors holding the same values. The algorithm computes what it would have without the
restart, so the base golden judges it; the loaded state must also keep the dtype, shape
and device it was saved with (the adapter checks each tensor).

k = 1 (the state has just been made), 10 (the warm-restart schedule restarts at step 11,
into a period twice as long: a scheduler that lost its state takes the short one) and 20
(mid-period, and amsgrad's running maximum has been set, where the reference keeps one).
Once more after 10 with tensor 0 in the other dtype (optgold.contracts.mixed_dtypes): a
``step`` cast to its parameter's dtype on load (torch's own behaviour once) changes only
there, and the layout check sees it.

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
               "and scheduler, k = 1, 10, 20; in reversed parameter order; with mixed dtypes")


def rows(module):
    return [(f"after_{k}", "base", {"restart": [k + 1]}, {}) for k in (1, 10, 20)] + [
        ("reordered_after_12", "reordered", {}, {}),
        ("mixed_dtypes_after_10", "base", {"restart": [11]}, {"other": [0]})]


def tensor_dtypes(case, dtype):
    from optgold.contracts import mixed_dtypes

    return mixed_dtypes.tensor_dtypes(case, dtype) if case.setting.get("other") else None


def adapter_options(case, dtype):
    dtypes = tensor_dtypes(case, dtype)
    return {"tensor_dtypes": dtypes} if dtypes else {}
