"""Rounding into a storage format, as a low-precision run keeps its numbers: to nearest, ties to even.

bfloat16 keeps 8 significant bits and float32's exponent range; float16 keeps 11 bits, with
subnormals below 2^-14. A value beyond the largest finite number rounds to infinity. A
float64 value goes through float32 first, as torch converts it (and as an implementation
computing in float32 stores): a value just off a tie can round the other way than directly.
"""
import struct
from math import frexp, inf, isfinite, ldexp

FLOAT32_MAX = 3.4028234663852886e38
# (significant bits, min exponent, largest finite)
FORMATS = {"bfloat16": (8, -126, 3.3895313892515355e38), "float16": (11, -14, 65504.0), "float32": (24, -126, FLOAT32_MAX)}


def rounder(name):
    """x -> x rounded to nearest even in the named format."""
    bits, min_exponent, largest = FORMATS[name]

    def nearest(x):
        if x == 0 or not isfinite(x):
            return x
        if abs(x) > FLOAT32_MAX:
            return inf if x > 0 else -inf
        x = struct.unpack("f", struct.pack("f", x))[0]
        mantissa, exponent = frexp(x)  # x = mantissa * 2^exponent, 0.5 <= |mantissa| < 1
        kept = bits - max(0, min_exponent - (exponent - 1))  # subnormals keep fewer bits
        rounded = ldexp(round(ldexp(mantissa, kept)), exponent - kept)  # round(): ties to even, exactly
        if abs(rounded) > largest:
            return inf if x > 0 else -inf
        return rounded
    return nearest
