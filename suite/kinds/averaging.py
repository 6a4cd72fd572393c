"""The averaging kind: a weight-averaging implementation (SWA, EMA) along golden optimizer trajectories.

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

from optgold import compare
from optgold.check import Judgement
from optgold.golden.dtypes import C, UNIT_ROUNDOFF
from optgold.golden.load import load_cases
from optgold.kinds.base import Run
from optgold.reference import averaging
from optgold.runner import DTYPES

NAME = "averaging"
TIMEOUT_PER_STEP = False
TIMEOUT = 30.0  # seconds per case
BUDGET = 300.0  # seconds for a whole check
MODE = "average"
MODES = (MODE,)
GRID_DTYPES = ("float64", "float32")

BUFFER_SIZE = 4


@dataclass(frozen=True)
class AveragingCase:
    reference: str  # "swa" or "ema"
    id: str
    source: tuple  # (reference, case id) of the golden trajectory averaged
    start: int  # first step averaged
    every: int  # average every this many steps
    hp: dict


CASES = {
    "swa": [
        AveragingCase("swa", "sgd_momentum", ("sgd", "momentum_rotated"), 50, 5, dict(use_buffers=False)),
        AveragingCase("swa", "adam_rosenbrock_buffers", ("adam", "eps_rosenbrock"), 100, 1, dict(use_buffers=True)),
    ],
    "ema": [
        AveragingCase("ema", "sgd_momentum", ("sgd", "momentum_rotated"), 0, 1, dict(decay=0.9, use_buffers=False)),
        AveragingCase("ema", "adam_rosenbrock_buffers", ("adam", "eps_rosenbrock"), 10, 3, dict(decay=0.99, use_buffers=True)),
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


def references():
    return {name: averaging for name in CASES}


def cases(ref_name, options):
    """Each case with the golden optimizer trajectory it averages."""
    goldens = {}
    for case in CASES[ref_name]:
        source, case_id = case.source
        if source not in goldens:
            goldens[source] = {c.id: c for c in load_cases(source, options.golden_dir)}
        yield AveragedCase(case, goldens[source][case_id])


@dataclass(frozen=True)
class AveragedCase:
    spec: AveragingCase
    golden: object  # the optimizer golden case whose trajectory is averaged

    @property
    def id(self):
        return self.spec.id

    @property
    def reference(self):
        return self.spec.reference


def modes(case, options):
    return (MODE,)


def not_applicable(case, mode, options):
    return None


def start(factory, case, mode, options, earlier):
    return AveragingRun(factory, case.spec, case.golden, options)


def report_extra(options):
    return {}


def torch_implementations(ref_name):
    from torch.optim.swa_utils import AveragedModel

    return [("", AveragedModel, {})]


def listing():
    """SWA and EMA: checked along golden optimizer trajectories."""
    from rich.table import Column, Table

    # fold, not "…": a name cut short in a narrow terminal reads as another name
    t = Table(*(Column(h, overflow="fold") for h in ("averaging", "hyperparameters", "variants", "cases")))
    for name, cases in CASES.items():
        hp = ", ".join(f"{k}={v}" for k, v in averaging.DEFAULTS[name].items())
        t.add_row(name, hp, ", ".join(v for v in averaging.VARIANTS if v != "torch"), str(len(cases)))
    return t


class AveragingRun(Run):
    """Update the averager at the case's steps; its averaged weights (and buffer) after each update."""
    RECORDED = ("hyperparameters", "observed")

    def __init__(self, factory, case, golden, options):
        self.factory, self.case, self.golden, self.options = factory, case, golden, options
        steps = range(case.start, golden.steps, case.every)
        self.values = [(golden.params[t + 1], golden.grads[t][:BUFFER_SIZE]) for t in steps]
        self.observed = []

    def construct(self):
        self.hyperparameters = {**self.case.hp, **self.options.impl_args}
        self.model = TrajectoryModel(self.golden.shapes, DTYPES[self.options.dtype])
        self.averaged = build(self.factory, self.case.reference, self.model, self.case.hp, self.options.impl_args)

    def steps(self):
        for params, buffer in self.values:
            self.model.load(params, buffer)
            self.averaged.update_parameters(self.model)
            self.observed.append(np.concatenate(flat_averaged(self.averaged)))
            yield self.observed[-1]

    def judge(self):
        values = self.values[:len(self.observed)]
        if not values:
            return Judgement()
        expected = averaging.average(self.case.reference, [v[0].tolist() for v in values],
                                     [v[1].tolist() for v in values], **self.case.hp)
        obs = np.array(self.observed)
        exp = np.array([np.concatenate(e) for e in expected])
        inputs = np.array([np.concatenate(v) for v in values])
        # each update rounds a few times at the size of the average and of the new weights
        bound = C * UNIT_ROUNDOFF[self.options.dtype] * np.cumsum(np.abs(exp) + np.abs(inputs), axis=0)
        shapes = list(self.golden.shapes) + [(BUFFER_SIZE,)]
        divergence = compare.first_divergence("averaged weights", obs, exp, bound, shapes, first_step=1)
        if divergence:
            divergence = AveragingDivergence(divergence, self.case)
        names = [f"tensor {k}" for k in range(len(self.golden.shapes))] + ["buffer"]
        return Judgement(divergence, compare.max_abs_error(obs, exp), compare.tolerance_used(obs, exp, bound),
                         len(values), curves=[compare.curve("averaged weights", obs, exp, bound, shapes, 1, names)])


@dataclass(frozen=True)
class AveragingDivergence:
    """A divergence counted in updates, with the steps they were made at."""
    divergence: compare.Divergence
    case: AveragingCase

    @property
    def step(self):
        return self.divergence.step

    def describe(self):
        return self.divergence.describe().replace(" at step ", " at update ") + (
            f" (updates at steps {self.case.start}, {self.case.start + self.case.every}, ...; the last tensor is "
            "the buffer)")
