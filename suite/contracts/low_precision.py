"""low_precision: a long run while torch's default dtype is bfloat16 or float16.

The parameters are float32 whatever the check's dtype (judged at float32); only torch's
default dtype is low, as in a program that set it for its model. An implementation that
makes its step counter (or any scalar state) with the default dtype then counts in
bfloat16, which stops at 256 (256 + 1 rounds back to 256), or in float16, which stops at
2048, and the bias correction freezes with it (torchao PR #4915, pytorch#110940). torch
keeps step in float32 whenever the default is not float64. The golden is 2100 steps of a
6-element problem, with betas that keep the bias correction moving past 2048; the
bfloat16 row runs its first 300 steps.

The rows run in replay only: a counter stops where it stops whatever gradients it sees,
and a free run of 2100 steps would double the cost of a whole check.
"""
NAME = "low_precision"
MODES = ("replay",)
DESCRIPTION = ("float32 parameters for 2100 steps with torch's default dtype float16 (300 with bfloat16): step "
               "counts and bias correction exact")


def rows(module):
    return [("bfloat16_default", "long", {}, {"default": "bfloat16", "steps": 300}),
            ("float16_default", "long", {}, {"default": "float16"})]


def default_dtype(case, dtype):
    return case.setting["default"]


def tensor_dtypes(case, dtype):
    return ["float32"] * len(case.shapes)


def adapter_options(case, dtype):
    return {"tensor_dtypes": tensor_dtypes(case, dtype)}
