"""The network kind: an implementation trained along the golden CIFAR run, in replay form.

Each step the network's float64 gradient is computed at the golden parameters, which
golden/cifar/walk.py re-walks and certifies against the stored golden step by step.
The implementation gets that gradient whatever its own parameters are; its parameters
and torch-named state are judged elementwise against the golden's at every step
(optgold.cifar.judge), within C times a running error bound of the formulas in its dtype
(optgold.cifar.running_error). Its errors then grow only by its own arithmetic, never by
the network's dynamics, so the bound holds over hundreds of float32 steps and every step
is judged. The lr of each step is set through the adapter, as a scheduler sets it.
"""
from dataclasses import dataclass

import numpy as np

from optgold import adapters
from optgold.check import Judgement
from optgold.cifar import diagnose
from optgold.cifar.judge import Judge, curves, describe
from optgold.cifar.running_error import ErrorLanes
from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import load, model
from optgold.golden.cifar.grid import GRID
from optgold.golden.cifar.walk import GoldenWalk
from optgold.kinds.base import Run
from optgold.kinds.optimizer import case_hyperparameters, check_configuration

NAME = "network"
TIMEOUT_PER_STEP = True  # a network step takes seconds; a case, minutes
TIMEOUT = 120.0  # seconds per step
BUDGET = 3600.0  # seconds for a whole check: a full CIFAR check takes minutes
MODE = "replay"
MODES = (MODE,)
GRID_DTYPES = ()  # minutes per case: timed by optgold.devtools.cifar_time, not in the grid


def references():
    from optgold import reference

    return {name: reference.get(name) for name in GRID}


def cases(ref_name, options):
    """Every CIFAR case of ``ref_name``, on the data of options.cifar_dir (else $OPTGOLD_CIFAR_DIR, else synthetic)."""
    data = _data(options)
    return [NetworkCase(case, data) for case in load.load_cases(ref_name, load.golden_dir(options.golden_dir,
                                                                                          data.name), data)]


def _data(options):
    return cifar_data.load(options.cifar_dir)


@dataclass(frozen=True)
class NetworkCase:
    golden: object  # golden.cifar.load.CifarGolden
    data: object

    @property
    def id(self):
        return self.golden.id

    @property
    def reference(self):
        return self.golden.reference


def modes(case, options):
    return (MODE,)


def not_applicable(case, mode, options):
    if mode != MODE:
        return ("CIFAR cases are checked in replay form only: a free run of a network drifts from any golden by "
                "rounding alone")
    return None


def start(factory, case, mode, options, earlier):
    return NetworkRun(factory, case.golden, case.data, options)


def report_extra(options):
    return {"problem": "cifar", "data": _data(options).description}


def torch_implementations(ref_name):
    from optgold.kinds.optimizer import torch_implementations as paths

    return paths(ref_name)


def listing():
    from rich.table import Column, Table

    # fold, not "…": a name cut short in a narrow terminal reads as another name
    t = Table(*(Column(h, overflow="fold") for h in ("CIFAR run (--problem cifar)", "cases", "steps")))
    for name, grid in GRID.items():
        t.add_row(name, ", ".join(c.id for c in grid), ", ".join(str(c.steps) for c in grid))
    return t


@dataclass(frozen=True)
class NetworkDivergence:
    divergence: object  # compare.Divergence
    names: list  # the network's tensor names

    @property
    def step(self):
        return self.divergence.step

    def describe(self):
        return describe(self.divergence, self.names)


class NetworkRun(Run):
    """The golden walk runs beside the implementation (it makes each step's gradient), so the
    elementwise judging runs there too, step by step; the parent receives its findings."""
    RECORDED = ("hyperparameters", "steps_run", "first", "max_error", "used", "diagnosis", "summary", "ratio_rows")

    def __init__(self, factory, case, data, options):
        self.factory, self.case, self.data, self.options = factory, case, data, options
        self.steps_total = min(options.steps or case.steps, case.steps)
        self.steps_run, self.diagnosis, self.observed = 0, None, None
        self.first, self.max_error, self.used, self.summary = None, 0.0, 0.0, None
        self.ratio_rows = {}  # the Judge's, sent as it grows

    def construct(self):
        self.golden = GoldenWalk(self.case, self.data)
        self.hyperparameters = case_hyperparameters(self.case, self.factory, self.options.impl_args)
        flat_start = np.concatenate([t.reshape(-1) for t in self.golden.start])
        self.adapter = adapters.get(adapters.select(self.factory, self.options.adapter))(self.factory, self.hyperparameters, flat_start,
                                                          self.case.shapes, self.options.dtype, self.options.device)
        check_configuration(self.adapter, self.case)
        self.errors = ErrorLanes(self.golden.lanes.optimizer, self.golden.start, self.case.hp, self.options.dtype)
        self.judged = Judge(self.case.shapes, self.golden.lanes, self.errors)
        self.log = diagnose.GradientLog()
        self.observed = self.adapter.flat_params()

    def steps(self):
        golden, judged = self.golden, self.judged
        for t in range(1, self.steps_total + 1):
            grads, hp = golden.gradient(t), golden.hyperparameters(t)
            self.adapter.set_lr(hp["lr"])
            self.adapter.step(np.concatenate([g.reshape(-1) for g in grads]))
            self.log.record(grads, hp)
            golden.step(grads, t)
            self.errors.step(grads, hp)
            self.steps_run = t
            self.observed = self.adapter.flat_params()
            judged.see_step(t, self.observed, self.adapter)
            self.first, self.max_error, self.used = judged.first, judged.max_error, judged.used
            self.ratio_rows = judged.ratio_rows
            if judged.first and judged.first.step == t:  # diagnosed where the run left, on the gradients so far
                self.diagnosis = diagnose.diagnose(self.case, golden.start, self.log, self.observed, t)
            yield self.observed
            if judged.first and self.options.stop_at_divergence:
                return

    def finish(self):
        if self.steps_run == self.case.steps:
            self.golden.certify_final()
        self.summary = self._summary()

    def judge(self):
        notes = [] if self.steps_run == self.case.steps else [
            f"judged {self.steps_run} of {self.case.steps} steps (a shortened run)"]
        return Judgement(NetworkDivergence(self.first, self.case.names) if self.first else None, self.max_error,
                         self.used, self.steps_run, notes if self.steps_run else [],
                         curves(self.ratio_rows, self.case.shapes, self.case.names))

    def diagnose(self, judgement):
        return self.diagnosis

    def details(self):
        first = self.first
        return self.summary or {"tensor": self.case.names[first.tensor] if first else None,
                                "steps_run": self.steps_run, "steps": self.case.steps}

    def _summary(self):
        """The finished run's fields of the JSON report, with the free run (shown, never judged)."""
        case, evaluation = self.case, None
        if self.steps_run == case.steps and self.observed is not None and np.isfinite(self.observed).all():
            tensors = np.split(self.observed, np.cumsum(case.sizes)[:-1])
            evaluation = model.evaluate_run([t.reshape(s) for t, s in zip(tensors, case.shapes)], self.golden.run)
        first = self.first if self.steps_run else None
        out = {"tensor": case.names[first.tensor] if first else None, "steps_run": self.steps_run,
               "steps": case.steps, "evaluation": evaluation, "golden_evaluation": case.golden_eval,
               "golden_loss": case.loss.tolist(), "free_run": None}
        if self.options.free_run:
            from optgold.cifar.free_run import free_run

            out["free_run"] = free_run(self.factory, case, self.data, self.options.dtype, self.options.device,
                                       self.options.impl_args, self.options.progress).as_json()
        return out
