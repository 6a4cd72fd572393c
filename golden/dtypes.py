"""Unit roundoff of the dtypes goldens carry drift profiles for."""
UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24}
