"""group_added: a param group added mid-run with add_param_group, with its own lr.

Tensor 2 is outside the optimizer for steps 1-10 (it must not move), then joins as a
group of its own with half the lr before step 11, and starts with fresh state and a
step count from 1.

What ships broken here: a group added later that does not get its own hyperparameters
(the defaults, or the first group's), state or step counts shared with the first group,
a flattened-parameter cache (fused or foreach lists) not rebuilt.
"""
NAME = "group_added"
DESCRIPTION = "a param group added with add_param_group before step 11, with its own lr"


def rows(module):
    return [("at_11", "group_added", {}, {})]
