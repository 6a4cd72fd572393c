"""The implementation's side of a case runs in a worker process; the parent keeps the judging.

Nothing an implementation does can then end, hang or rewrite the check: a worker that
exits (``sys.exit``, ``os._exit``), is killed by a signal, or goes past its time limit
fails its case with the exit code or signal and the step, and the next case runs in a
fresh worker. Time limits are enforced from the parent, so no ``except`` inside the
implementation can swallow them.

The worker builds and steps the case's Run and counts each step in shared memory; every
FLUSH_EVERY seconds, and at the end, it sends the new entries of the Run's ``RECORDED``
attributes. The parent copies them into its own Run and judges that, with its own code
and its own goldens. A list (or a dict of lists) is sent as what was appended since the
last message; any other recorded value is sent again whenever it is a new object.

Messages are plain pickles (multiprocessing's own would pass tensors as shared memory,
which dies with the worker). One worker per check, forked, runs its cases in turn (a fork
per case doubled a check's time); any factory works, even one defined in a test. CUDA
cannot be forked once initialised, so CUDA devices use a forkserver that has imported
torch (the factory must then be importable by name).
"""
import builtins
import functools
import multiprocessing
import os
import pickle
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field

from optgold.reference.errors import UsageError

PROGRESS_EVERY = 0.5  # seconds between the parent's looks at the clock while it waits
_SHOWN = {}  # the warnings registry of _reissue: each of the workers' warnings is shown once
FLUSH_EVERY = 0.05  # seconds between the worker's messages of what the run recorded


@dataclass
class Outcome:
    """How the worker's run ended: "ran" (failure: the Failure that ended it early, or None),
    "skip", "mismatch" or "usage" (a golden or a setting at fault, not the implementation; message: why)."""
    status: str
    failure: object = None
    message: str = ""
    warnings: list = field(default_factory=list)  # (message, category name, file, line) the run warned


@dataclass
class Limits:
    """When the parent stops waiting: ``case`` seconds for the whole run, or with ``per_step``
    for construction and each step; never past ``deadline`` (time.monotonic(), the check's budget)."""
    case: float = None
    per_step: bool = False
    deadline: float = None
    budget: float = None  # the budget's seconds, for the message


def start_method(device):
    return "forkserver" if str(device).startswith("cuda") else "fork"


class Worker:
    """A worker process that runs the cases of one check, one after another; the parent judges.

    It is forked with the check's kind, factory and cases, and is sent (case index, mode)
    tasks. A worker that ends, is killed or is stopped at a time limit fails the task it was
    on; the next task starts a fresh one. Use as a context manager: the worker ends with it.
    """

    def __init__(self, kind, factory, cases, options):
        self.kind, self.factory, self.cases, self.options = kind, factory, list(cases), options
        self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _start(self):
        _warm_torch()
        context = multiprocessing.get_context(start_method(self.options.device))
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(["torch", "optgold.check"])
        self.connection, child = context.Pipe(duplex=True)
        # Shared counters, so the parent knows the step without a message per step: the last step
        # the run finished (0: built, -1: not yet), and every step of any loop (a free run too).
        self.position, self.beats = context.RawValue("q", -1), context.RawValue("q", 0)
        kind = self.kind if context.get_start_method() == "fork" else self.kind.NAME  # a module cannot be pickled
        self.process = context.Process(target=_serve, daemon=True, args=(
            kind, self.factory, self.cases, self.options, child, self.position, self.beats))
        self.process.start()
        child.close()

    def close(self):
        if self.process is None:
            return
        try:
            self.connection.send_bytes(pickle.dumps(None))  # the worker's last task: end
        except OSError:
            pass
        self.process.join(1)
        self._stop()

    def _stop(self):
        _stop(self.process)
        _kill_group(self.process.pid)  # what the implementation started, which outlives the worker otherwise
        self.connection.close()
        self.process = None

    def index(self, case):
        return next(i for i, known in enumerate(self.cases) if known is case)

    def run(self, index, mode, run, limits, progress=None):
        """Run task (case ``index``, ``mode``), mirroring what it records into the parent's ``run``;
        returns an Outcome. ``progress(step)`` is called here as the worker's steps go by."""
        from optgold.check import Failure

        if self.process is None or not self.process.is_alive():
            if self.process is not None:
                self._stop()
            self._start()
        self.position.value, self.beats.value = -1, 0
        self.connection.send_bytes(pickle.dumps((index, mode)))
        started = step_started = time.monotonic()
        seen_beats, shown, connection = 0, 0, self.connection
        while True:
            if connection.poll(0) or not _waited(connection, limits, started, step_started):
                try:
                    message = pickle.loads(connection.recv_bytes())
                except (EOFError, OSError):
                    return self._ended()
                if message[0] == "record":
                    apply_changes(run, message[1])
                else:  # ("done", Outcome)
                    _reissue(message[1].warnings)
                    return message[1]
            if self.beats.value != seen_beats:
                seen_beats, step_started = self.beats.value, time.monotonic()
            if progress and self.position.value > shown:
                shown = self.position.value
                progress(shown)
            limit, what = _limit(limits, started, step_started)
            if limit is not None and time.monotonic() >= limit and not connection.poll(0):
                done = self.position.value
                self._stop()
                return Outcome("ran", Failure(_timeout_message(limits, what, done), done + 1, "timeout"))
            if not self.process.is_alive() and not connection.poll(0):
                return self._ended()

    def _ended(self):
        failure = _ended(self.process, self.position.value)
        self._stop()
        return Outcome("ran", failure)


def _waited(receiving, limits, started, step_started):
    """Wait for a message until the nearest limit or PROGRESS_EVERY; False if one came."""
    limit, _ = _limit(limits, started, step_started)
    wait = PROGRESS_EVERY if limit is None else max(0.0, min(PROGRESS_EVERY, limit - time.monotonic()))
    return not receiving.poll(wait)


@functools.cache
def _warm_torch():
    """torch's first optimizer step imports a second of modules; a forked worker would pay it
    each time, so the parent pays it once (with torch's own SGD, never the implementation)."""
    import torch

    param = torch.zeros(1, requires_grad=True)
    param.grad = torch.zeros(1)
    torch.optim.SGD([param], lr=0.0).step()


def _limit(limits, started, step_started):
    """(the monotonic time the wait ends, which limit) of the nearest limit, or (None, None)."""
    candidates = []
    if limits.case:
        candidates.append(((step_started if limits.per_step else started) + limits.case,
                           "step" if limits.per_step else "case"))
    if limits.deadline is not None:
        candidates.append((limits.deadline, "budget"))
    return min(candidates) if candidates else (None, None)


def _at(done):
    return "while it was built" if done < 0 else f"at step {done + 1}"


def _timeout_message(limits, what, done):
    at = _at(done)
    if what == "budget":
        return f"timed out {at}: the check's budget of {limits.budget:g} s was spent; the worker was killed"
    per = "per step" if what == "step" else "for the case"
    return f"timed out {at}: no result after {limits.case:g} s {per} (the timeout); the worker was killed"


def _ended(worker, done):
    """The Failure of a worker that ended without its result."""
    from optgold.check import Failure

    worker.join(5)
    return Failure(f"the implementation's process {_how(worker.exitcode)} {_at(done)}, before its result (a sys.exit, os._exit or crash "
                   "inside the implementation); the case was not judged", done + 1, "exited")


def _stop(process):
    if process.is_alive():
        process.kill()
    process.join(5)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # nothing is left in it
        pass


def _serve(kind, factory, cases, options, connection, position, beats):
    """The worker: run each task it is sent, sending what its run records; ("done", Outcome) ends each."""
    import torch

    from optgold import kinds
    from optgold.check import THREADS

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.setpgid(0, 0)  # a process group of its own: the parent ends it whole, with whatever it started
    torch.set_num_threads(options.threads or THREADS)
    options.progress = _Heartbeat(beats)
    kind = kinds.KINDS[kind] if isinstance(kind, str) else kind
    while True:
        try:
            task = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):
            break
        if task is None:
            break
        index, mode = task
        run = kind.start(factory, cases[index], mode, options, {})
        outcome = _work(run, options, connection, position, beats)
        connection.send_bytes(pickle.dumps(("done", outcome)))
    connection.close()
    os._exit(0)  # nothing of the parent's (atexit, pytest) runs in the worker


def _work(run, options, connection, position, beats):
    """Drive one run, sending what it records; returns its Outcome."""
    from optgold.check import ConfigMismatch, drive
    from optgold.hyperparameters import Skip
    from optgold.runner import default_dtype

    sent, flushed = {}, [time.monotonic()]

    def flush():
        connection.send_bytes(record_bytes(changes(run, sent)))
        flushed[0] = time.monotonic()

    def record(step):  # what the run recorded goes out in batches: a message per step costs more than the step
        position.value = step
        beats.value += 1
        if time.monotonic() - flushed[0] >= FLUSH_EVERY:
            flush()

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        try:
            with default_dtype(getattr(run, "default_dtype", None) or options.dtype):
                failure = drive(run, record=record)
            outcome = Outcome("ran", failure)
        except Skip as skip:
            outcome = Outcome("skip", message=str(skip))
        except ConfigMismatch as mismatch:
            outcome = Outcome("mismatch", message=str(mismatch))
        except UsageError as error:
            outcome = Outcome("usage", message=str(error))
    outcome.warnings = [(str(w.message), _category_name(w.category), w.filename, w.lineno) for w in shown]
    flush()
    return outcome


def _category_name(category):
    return category.__name__ if getattr(builtins, category.__name__, None) is category else "UserWarning"


def _reissue(caught):
    """The worker's warnings, warned here: this process's filters show each one once per check,
    not once per case and mode."""
    for message, category, filename, lineno in caught:
        warnings.warn_explicit(message, getattr(builtins, category), filename, lineno,
                               module=os.path.splitext(os.path.basename(filename))[0], registry=_SHOWN)


class _Heartbeat:
    """The kind's per-step progress, inside the worker (a free run's steps): each one resets the
    parent's per-step limit."""

    def __init__(self, beats):
        self.beats = beats

    def __call__(self, case, step):
        self.beats.value += 1


def changes(run, sent):
    """What ``run`` recorded since ``sent`` (updated): {name: ("extend", items) | ("keys", {key: items})
    | ("set", value)}. A list, or a dict of lists already sent, goes as what was appended since."""
    out = {}
    for name in run.RECORDED:
        value = getattr(run, name, None)
        if isinstance(value, list) and sent.get(name) is value:
            start = sent[(name,)]
            if len(value) > start:
                out[name] = ("extend", value[start:])
                sent[(name,)] = len(value)
        elif isinstance(value, dict) and sent.get(name) is value and all(isinstance(v, list) for v in value.values()):
            new = {}
            for key, items in value.items():
                start = sent.get((name, key), 0)
                if len(items) > start:
                    new[key] = items[start:]
                    sent[(name, key)] = len(items)
            if new:
                out[name] = ("keys", new)
        elif sent.get(name, object()) is not value:
            out[name] = ("set", list(value) if isinstance(value, list) else
                         {k: list(v) if isinstance(v, list) else v for k, v in value.items()}
                         if isinstance(value, dict) else value)
            sent[name] = value
            if isinstance(value, list):
                sent[(name,)] = len(value)
            elif isinstance(value, dict):
                sent.update({(name, k): len(v) for k, v in value.items() if isinstance(v, list)})
    return out


def record_bytes(changes):
    """The ("record", changes) message, pickled once. A value that cannot be pickled (a local class
    or function among the hyperparameters, say) goes as its name: what the report shows of it anyway."""
    try:
        return pickle.dumps(("record", changes))
    except Exception:
        pass
    out = {}
    for name, (how, value) in changes.items():
        if how == "set" and isinstance(value, dict):
            value = {k: v if _picklable(v) else getattr(v, "__name__", type(v).__name__) for k, v in value.items()}
        out[name] = (how, value if _picklable(value) else repr(value))
    return pickle.dumps(("record", out))


def _picklable(value):
    try:
        pickle.dumps(value)
        return True
    except Exception:
        return False


def apply_changes(run, changes):
    for name, (how, value) in changes.items():
        if how == "extend":
            getattr(run, name).extend(value)
        elif how == "keys":
            target = getattr(run, name)
            for key, items in value.items():
                target.setdefault(key, []).extend(items)
        else:
            setattr(run, name, value)


class ImplementationEnded(UsageError):
    """The implementation ended the process a command ran it in (exit 2: nothing was measured)."""


def guarded(function, what):
    """``function()``, an exit code, run in a forked child whose output comes here as it is written:
    a command that must time the implementation in its own process (``optgold bench``) still never
    exits 0 when the implementation ends that process. A child that ends without its result is
    an ImplementationEnded naming the exit code or signal; usage errors keep their message."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    terminal = {name: getattr(stream, "isatty", lambda: False)() for name, stream in
                (("stdout", sys.stdout), ("stderr", sys.stderr))}
    child = context.Process(target=_guard, args=(function, sending, terminal), daemon=True)
    child.start()
    sending.close()
    try:
        while True:
            try:
                status, value = pickle.loads(receiving.recv_bytes())
            except (EOFError, OSError):
                child.join(5)
                raise ImplementationEnded(f"{what}: the implementation's process {_how(child.exitcode)} before the "
                                          "command finished (a sys.exit, os._exit or crash inside the "
                                          "implementation); nothing it measured counts") from None
            if status in ("stdout", "stderr"):
                stream = getattr(sys, status)
                stream.write(value)
                stream.flush()
                continue
            if status == "usage":
                raise UsageError(value)
            if status == "interrupted":
                raise KeyboardInterrupt
            return value
    finally:
        _stop(child)
        receiving.close()


def _how(code):
    return f"was killed by signal {signal.Signals(-code).name}" if code is not None and code < 0 else \
        f"exited with code {code}"


class _Relay:
    """A text stream of the guarded child: what is written goes to the parent's stream of that name."""

    def __init__(self, sending, name, terminal):
        self.sending, self.name, self.terminal = sending, name, terminal

    def write(self, text):
        if text:
            self.sending.send_bytes(pickle.dumps((self.name, text)))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return self.terminal

    @property
    def encoding(self):
        return "utf-8"


def _guard(function, sending, terminal):
    sys.stdout, sys.stderr = (_Relay(sending, name, terminal[name]) for name in ("stdout", "stderr"))
    try:
        message = ("done", function())
    except (UsageError, OSError) as error:
        message = ("usage", str(error))
    except KeyboardInterrupt:
        message = ("interrupted", None)
    sending.send_bytes(pickle.dumps(message))
    sending.close()
    os._exit(0)
