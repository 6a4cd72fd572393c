"""The few functions the formulas need beyond + - * /, for float and mpmath.mpf alike."""
import math


def sqrt(x):
    # math.sqrt would round an mpf to a float; ** 0.5 keeps mpmath's precision.
    return math.sqrt(x) if isinstance(x, float) else x ** 0.5
