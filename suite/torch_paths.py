"""torch's implementations of a reference, and which of their paths (forloop, foreach, fused) exist."""
import torch

from optgold.loading import load_impl
from optgold.reference import capabilities

PATH_ARGS = {"forloop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}


def torch_class(ref_module):
    """The torch class a reference documents (its capabilities' torch), or None."""
    spec = capabilities.of(ref_module).torch
    return load_impl(spec) if spec else None


def available_paths(cls):
    """{path: constructor kwargs} for the paths this torch class accepts on CPU."""
    paths = {}
    for path, kwargs in PATH_ARGS.items():
        try:
            optimizer = cls([torch.zeros(2, 2, requires_grad=True)], **kwargs)
        except (TypeError, ValueError, RuntimeError):
            continue  # this class has no such path here
        if path == "fused" and not optimizer.defaults.get("fused"):
            continue
        paths[path] = kwargs
    # a class with no foreach or fused switch (LBFGS) has one path: itself
    return paths or {"forloop": {}}
