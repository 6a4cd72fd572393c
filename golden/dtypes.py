"""Rounding: the unit roundoff of each dtype, and the one margin every tolerance model applies.

Every bound in optgold (optimizer replay and free run, schedulers, averaging, the CIFAR
running error, the CIFAR reproduction) is C times a model of what rounding can do:
the models are first-order estimates, and C is calibrated once for all of them
(`python -m optgold.devtools.calibrate`).
"""
UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24}
C = 8.0
