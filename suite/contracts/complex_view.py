"""complex: a complex parameter is updated as its view_as_real.

torch documents complex support as treating each complex element as two independent
real numbers: the run over complex tensors (each pair of the golden's real elements is
one complex number) must match the real run element for element, in params and state
(read through view_as_real).

What ships broken here: g * g instead of g * conj(g) in a second moment (complex, not
|g|^2), a sqrt or max taken of a complex number, a norm over the real view that misses
the imaginary half.
"""
NAME = "complex"
DESCRIPTION = "complex parameters, which must move as their view_as_real"


def rows(module):
    return [("view_as_real", "base", {}, {})]


def adapter_options(case, dtype):
    return {"complex_view": True}
