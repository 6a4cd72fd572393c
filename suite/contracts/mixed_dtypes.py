"""mixed_dtypes: float32 and float64 tensors in one param group, each judged at its own dtype.

Tensor 0 takes the other dtype of the check's (float32 under a float64 check, float64
under a float32 one), so the group's first tensor is not in the default dtype. In replay every tensor is judged with the tolerance of its own
dtype; in a free run the tensors share one problem, so the float32 rounding reaches
every tensor and all are judged at float32.

What ships broken here: work grouped by dtype that applies weight decay once per dtype
group to every tensor (timm PR #2750), a state made in the default dtype instead of the
parameter's, a parameter cast to the group's first dtype.
"""
NAME = "mixed_dtypes"
DESCRIPTION = "float32 and float64 tensors in one param group (the first in the other dtype), each judged at its own"
OTHER = {"float64": "float32", "float32": "float64"}


def rows(module):
    return [("float32_and_float64", "base", {}, {"other": [0]})]


def tensor_dtypes(case, dtype):
    """The dtype of each tensor of the case: the check's, or the other one for the tensors the setting names."""
    return [OTHER[dtype] if k in case.setting.get("other", ()) else dtype for k in range(len(case.shapes))]


def adapter_options(case, dtype):
    return {"tensor_dtypes": tensor_dtypes(case, dtype)}
