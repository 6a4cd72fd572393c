"""Check a weight-averaging implementation (SWA, EMA) along golden optimizer trajectories.

The implementation wraps a model whose parameters follow a golden trajectory (and
whose one buffer follows the golden gradients, standing in for a running
statistic); it is updated at chosen steps and its averaged weights are compared
with the reference average of the same values.

IMPL is torch.optim.swa_utils.AveragedModel (EMA's decay becomes its multi_avg_fn,
get_ema_multi_avg_fn(decay)) or a factory (model, use_buffers=..., [decay=...])
returning an object with ``update_parameters(model)`` and ``module``.
"""
from dataclasses import dataclass

import numpy as np
import torch

from optgold.golden.dtypes import UNIT_ROUNDOFF
from optgold.golden.load import load_cases
from optgold.reference import averaging
from optgold import compare
from optgold.adapters import DTYPES
from optgold.check import CaseResult, CheckReport
from optgold.tolerance import C

BUFFER_SIZE = 4


@dataclass(frozen=True)
class AveragingCase:
    id: str
    source: tuple  # (reference, case id) of the golden trajectory averaged
    start: int  # first step averaged
    every: int  # average every this many steps
    hp: dict


CASES = {
    "swa": [
        AveragingCase("sgd_momentum", ("sgd", "momentum_rotated"), 50, 5, dict(use_buffers=False)),
        AveragingCase("adam_rosenbrock_buffers", ("adam", "eps_rosenbrock"), 100, 1, dict(use_buffers=True)),
    ],
    "ema": [
        AveragingCase("sgd_momentum", ("sgd", "momentum_rotated"), 0, 1, dict(decay=0.9, use_buffers=False)),
        AveragingCase("adam_rosenbrock_buffers", ("adam", "eps_rosenbrock"), 10, 3, dict(decay=0.99, use_buffers=True)),
    ],
}


class TrajectoryModel(torch.nn.Module):
    def __init__(self, shapes, dtype):
        super().__init__()
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(s, dtype=dtype)) for s in shapes])
        self.register_buffer("running", torch.zeros(BUFFER_SIZE, dtype=dtype))

    def load(self, flat_params, buffer):
        offset = 0
        with torch.no_grad():
            for w in self.weights:
                w.copy_(torch.tensor(flat_params[offset:offset + w.numel()]).reshape(w.shape))
                offset += w.numel()
            self.running.copy_(torch.tensor(buffer))


def build(factory, kind, model, hp, impl_args):
    """Construct the averager: EMA's decay goes in as ``decay`` where the factory takes
    it, else as AveragedModel's multi_avg_fn."""
    import inspect

    from torch.optim.swa_utils import get_ema_multi_avg_fn

    kwargs = {"use_buffers": hp["use_buffers"], **impl_args}
    if kind == "ema":
        takes_decay = "decay" in inspect.signature(factory).parameters
        kwargs.update({"decay": hp["decay"]} if takes_decay else {"multi_avg_fn": get_ema_multi_avg_fn(hp["decay"])})
    return factory(model, **kwargs)


def flat_averaged(averaged):
    module = averaged.module
    params = torch.cat([p.detach().reshape(-1).to(torch.float64) for p in module.weights])
    return params.numpy(), module.running.detach().to(torch.float64).clone().numpy()  # a copy, not a live view


def check_case(factory, kind, case, golden, dtype, impl_args):
    result = CaseResult(f"{case.id}", "failed", "average", dtype)
    steps = range(case.start, golden.steps, case.every)
    values = [(golden.params[t + 1], golden.grads[t][:BUFFER_SIZE]) for t in steps]
    expected = averaging.average(kind, [v[0].tolist() for v in values], [v[1].tolist() for v in values], **case.hp)
    model = TrajectoryModel(golden.shapes, DTYPES[dtype])
    try:
        averaged = build(factory, kind, model, case.hp, impl_args)
        observed = []
        for params, buffer in values:
            model.load(params, buffer)
            averaged.update_parameters(model)
            observed.append(flat_averaged(averaged))
    except NotImplementedError as error:
        result.status, result.message = "skipped", f"not implemented: {error}"
        return result
    except Exception as error:
        result.message = f"raised {type(error).__name__} at update {len(observed) + 1}: {error}"
        result.first_divergent_step = len(observed) + 1
        return result
    obs = np.array([np.concatenate(o) for o in observed])
    exp = np.array([np.concatenate(e) for e in expected])
    inputs = np.array([np.concatenate(v) for v in values])
    # each update rounds a few times at the size of the average and of the new weights
    bound = C * UNIT_ROUNDOFF[dtype] * np.cumsum(np.abs(exp) + np.abs(inputs), axis=0)
    shapes = list(golden.shapes) + [(BUFFER_SIZE,)]
    divergence = compare.first_divergence("averaged weights", obs, exp, bound, shapes, first_step=1)
    result.max_abs_error = compare.max_abs_error(obs, exp)
    result.tolerance_used = compare.tolerance_used(obs, exp, bound)
    if divergence:
        result.first_divergent_step = divergence.step
        result.message = divergence.describe().replace(" at step ", " at update ") + (
            f" (updates at steps {case.start}, {case.start + case.every}, ...; the last tensor is the buffer)")
    else:
        result.status = "passed"
    return result


def check_averaging(factory, kind, impl="", dtype="float64", impl_args=None, golden_dir=None):
    if kind not in CASES:
        raise KeyError(kind)
    goldens = {}
    results = []
    for case in CASES[kind]:
        ref_name, case_id = case.source
        if ref_name not in goldens:
            goldens[ref_name] = {c.id: c for c in load_cases(ref_name, golden_dir)}
        results.append(check_case(factory, kind, case, goldens[ref_name][case_id], dtype, impl_args or {}))
    return CheckReport(kind, impl, results)
