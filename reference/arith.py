"""The few functions the formulas need beyond + - * /, for float and mpmath.mpf alike.

A number type that is a whole tensor of elements (numpy arrays in the CIFAR lanes, the
running-error ``Bounded`` numbers) takes max and min elementwise: it says how through the
array API's ``__array_namespace__``, whose ``maximum`` and ``minimum`` are used.
"""
import math


def sqrt(x):
    # math.sqrt would round an mpf to a float; ** 0.5 keeps mpmath's precision.
    return math.sqrt(x) if isinstance(x, float) else x ** 0.5


def maximum(a, b):
    """max(a, b), elementwise for array number types."""
    return _elementwise("maximum", max, a, b)


def minimum(a, b):
    """min(a, b), elementwise for array number types."""
    return _elementwise("minimum", min, a, b)


def _elementwise(name, scalar, a, b):
    for x in (a, b):
        namespace = getattr(x, "__array_namespace__", None)
        if namespace is not None:
            return getattr(namespace(), name)(a, b)
    return scalar(a, b)
