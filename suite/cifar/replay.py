"""One CIFAR case in replay form: the implementation steps on gradients taken at the golden parameters.

Each step the network's float64 gradient is computed at the golden parameters, which
golden/cifar/walk.py re-walks and certifies against the stored golden step by step.
The implementation gets that gradient whatever its own parameters are; its parameters
and torch-named state are judged elementwise against the golden's at every step
(judge.py), within C times a running error bound of the formulas in its dtype
(running_error.py). Its errors then grow only by its own arithmetic, never by the
network's dynamics, so the bound holds over hundreds of float32 steps and every step
is judged.
"""
from dataclasses import dataclass

import numpy as np

from optgold.golden.cifar import model
from optgold.golden.cifar.walk import GoldenWalk
from optgold.adapters import DTYPES, TorchOptimizerAdapter
from optgold.check import CaseResult, impl_hyperparameters
from optgold.cifar import diagnose
from optgold.cifar.judge import Judge, describe
from optgold.cifar.running_error import ErrorLanes
from optgold.runner import CaseTimeout, default_dtype, time_limit


@dataclass
class CifarCaseResult(CaseResult):
    tensor: str = None  # the parameter tensor where the run first left the golden
    steps_run: int = 0
    steps: int = 0
    evaluation: dict = None  # {"train"|"test": {"loss", "accuracy"}} of the implementation's final parameters
    golden_eval: dict = None
    golden_loss: list = None  # the golden's batch loss per step
    free_run: object = None  # suite/cifar/free_run.FreeRun when asked for: shown, not judged

    def as_json(self):
        out = super().as_json()
        out.update(tensor=self.tensor, steps_run=self.steps_run, steps=self.steps, evaluation=self.evaluation,
                   golden_evaluation=self.golden_eval, golden_loss=self.golden_loss,
                   free_run=self.free_run.as_json() if self.free_run else None)
        return out


def _construct(factory, case, start, dtype, device, impl_args, result):
    hp = impl_hyperparameters(case, impl_args or {})
    flat_start = np.concatenate([t.reshape(-1) for t in start])
    try:
        with default_dtype(DTYPES[dtype]):
            return TorchOptimizerAdapter(factory, hp, flat_start, case.shapes, dtype, device)
    except NotImplementedError as error:
        result.status, result.message = "skipped", f"not implemented: {error or 'config rejected'}"
    except Exception as error:
        result.message = (f"construction with {hp} raised {type(error).__name__}: {error} (an implementation "
                          "raises NotImplementedError for a config it does not support, to have it skipped)")
    return None


def run_case(factory, case, data, dtype="float64", device="cpu", impl_args=None, timeout=60.0,
             stop_at_divergence=False, steps=None, progress=None):
    """Run and judge one case. ``steps`` stops early (tests, benchmarks); ``stop_at_divergence``
    ends the run at its first divergence instead of training on to report its final accuracy."""
    steps = min(steps or case.steps, case.steps)
    result = CifarCaseResult(case.id, "failed", "replay", dtype, steps=case.steps, golden_eval=case.golden_eval,
                             golden_loss=case.loss.tolist())
    golden = GoldenWalk(case, data)
    adapter = _construct(factory, case, golden.start, dtype, device, impl_args, result)
    if adapter is None:
        return result
    groups = getattr(adapter.optimizer, "param_groups", None)
    if groups is None and len(set(case.lr.tolist())) > 1:
        result.status = "skipped"
        result.message = "the case schedules lr, and the implementation exposes no param_groups to set it in"
        return result
    errors = ErrorLanes(golden.lanes.optimizer, golden.start, case.hp, dtype)
    judge, log, failure = Judge(case.shapes, golden.lanes, errors), diagnose.GradientLog(), None
    observed = adapter.flat_params()
    for t in range(1, steps + 1):
        grads, hp = golden.gradient(t), golden.hyperparameters(t)
        failure = _implementation_step(adapter, groups, grads, hp["lr"], dtype, timeout, t)
        if failure:
            break
        log.record(grads, hp)
        golden.step(grads, t)
        errors.step(grads, hp)
        result.steps_run = t
        observed = adapter.flat_params()
        judge.see_step(t, observed, adapter)
        if judge.first and judge.first.step == t:  # diagnosed where the run left, on the gradients so far
            result.diagnosis = diagnose.diagnose(case, golden.start, log, observed, t)
        if progress:
            progress(case, t)
        if not np.isfinite(observed).all() or (judge.first and stop_at_divergence):
            break
    if failure and failure[1] is NotImplementedError and result.steps_run == 0:
        result.status, result.message = "skipped", f"not implemented: {failure[0]}"
        return result
    if result.steps_run == case.steps:
        golden.certify_final()
    _conclude(result, case, judge, failure, observed, golden.run)
    return result


def _implementation_step(adapter, groups, grads, lr, dtype, timeout, t):
    """None, or (message, exception type) when the implementation raised or hung."""
    for group in groups or ():
        group["lr"] = lr  # as a scheduler sets it
    try:
        with time_limit(timeout), default_dtype(DTYPES[dtype]):
            adapter.step(np.concatenate([g.reshape(-1) for g in grads]))
    except CaseTimeout as caught:
        return f"timed out at step {t}: {caught}", CaseTimeout
    except Exception as caught:  # the implementation's own failure is a result, not a crash
        return f"raised {type(caught).__name__} at step {t}: {caught}", type(caught)
    return None


def _conclude(result, case, judge, failure, observed, run):
    result.max_abs_error, result.tolerance_used = judge.max_error, judge.used
    messages = []
    if judge.first:
        result.first_divergent_step, result.divergence = judge.first.step, judge.first
        result.tensor = case.names[judge.first.tensor]
        messages.append(describe(judge.first, case.names))
    if failure:
        result.first_divergent_step = result.first_divergent_step or result.steps_run + 1
        messages.append(failure[0])
    if result.diagnosis:
        messages.append(result.diagnosis.describe())
    if not messages:
        result.status = "passed"
        if result.steps_run < case.steps:
            messages.append(f"judged {result.steps_run} of {case.steps} steps (a shortened run)")
    if result.steps_run == case.steps and np.isfinite(observed).all():
        tensors = np.split(observed, np.cumsum(case.sizes)[:-1])
        result.evaluation = model.evaluate_run([t.reshape(s) for t, s in zip(tensors, case.shapes)], run)
    result.message = "; ".join(messages)
