"""The ranks of a sharded check: N processes in one torch.distributed (gloo) group on the loopback.

The adapter's process forks the ranks, which inherit the IMPL factory and so need nothing
picklable; rank 0 hosts the group's TCPStore on 127.0.0.1 (port 0 asks the system for a
free one; a port that is taken is a PortTaken usage error). Each rank serves commands from a pipe: ("build", ...) makes its Sharding
(optgold.shardings), then ("step", ...), ("local", ...), ("save", ...), ... call it. Every
command goes to every rank, which answers ("ok", value) or ("error", what it raised).

A rank that raises, exits or hangs ends the pool, and the call raises RankFailure naming the
rank, what happened, and where:
- raised: the rank's own exception, and the file and line it came from;
- ended: its exit code or signal, seen on its process sentinel;
- hung: no answer within ``timeout``; each silent rank is asked for its stack
  (faulthandler on SIGUSR1), and the ranks that are not inside torch.distributed are the ones
  named: the others wait in a collective for them.
Ranks die with the adapter's process (PR_SET_PDEATHSIG), and end when their pipe closes, so
none outlives a check.
"""
import ctypes
import faulthandler
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from datetime import timedelta
from multiprocessing.connection import wait

from optgold.reference.errors import UsageError

HOST = "127.0.0.1"
STACK_WAIT = 0.5  # seconds for a silent rank to write its stack
GLOO_TIMEOUT_FACTOR = 3
PR_SET_PDEATHSIG = 1


class RankFailure(Exception):
    """A rank raised, ended or hung; the message names it."""


class PortTaken(UsageError):
    pass


class Pool:
    """``world`` ranks serving commands; ``call`` sends one to all and returns their answers."""

    def __init__(self, world, factory, sharding, port=0, timeout=30.0):
        self.world, self.timeout = world, timeout
        self.stacks = tempfile.mkdtemp(prefix="optgold-ranks-")
        self.connections, self.processes = [], []
        for rank in range(world):
            parent, child = multiprocessing.Pipe(duplex=True)
            self.processes.append(_Forked(_serve, rank, world, child, factory, sharding, self._stack_file(rank),
                                          timeout))
            child.close()
            self.connections.append(parent)
        # rank 0 hosts the store: a store served from this process would have its threads forked into the
        # ranks of a later pool, where a lock one held at the fork never opens
        bound = self.call("store", port, per_rank=lambda rank: (port if rank == 0 else None,))
        if isinstance(bound[0], str):
            self.close()
            raise PortTaken(f"port {port} on {HOST} is taken ({bound[0]}): pass another --master-port, or 0 for "
                            "any free port")
        self.call("join", per_rank=lambda rank: (bound[0],))

    def _stack_file(self, rank):
        return os.path.join(self.stacks, f"rank{rank}.txt")

    def call(self, command, *args, per_rank=None):
        """Every rank's answer to ``command`` (``per_rank``: a function of the rank giving its args)."""
        for rank, connection in enumerate(self.connections):
            try:
                connection.send((command, per_rank(rank) if per_rank else args))
            except OSError:
                self._fail(f"rank {rank} {_how(self.processes[rank])} before {command}")
        answers, deadline = {}, time.monotonic() + self.timeout
        while len(answers) < self.world:
            waiting = {c: r for r, c in enumerate(self.connections) if r not in answers}
            ready = wait(list(waiting), max(deadline - time.monotonic(), 0))
            if not ready:
                self._fail(self._hung(sorted(waiting.values()), command))
            for connection in ready:  # an answer, or the end of the pipe: the rank has ended
                rank = waiting[connection]
                try:
                    answers[rank] = connection.recv()
                except (EOFError, OSError):
                    self.processes[rank].join(1)
                    self._fail(f"rank {rank} {_how(self.processes[rank])} during {command}; the other ranks were "
                               "left waiting for it")
                if answers[rank][0] == "error":
                    self._fail(self._ended_first() or f"rank {rank} raised {answers[rank][1]}")
        return [answers[r][1] for r in range(self.world)]

    def _ended_first(self):
        """What to say of a rank that ended, when another raised: a collective fails on every rank once one
        is gone, and the one that ended is the cause."""
        time.sleep(STACK_WAIT / 5)
        ended = [r for r, p in enumerate(self.processes) if not p.is_alive()]
        return f"rank {ended[0]} {_how(self.processes[ended[0]])}; the other ranks' collectives failed" if ended else None

    def _hung(self, silent, command):
        for rank in silent:
            try:
                os.kill(self.processes[rank].pid, signal.SIGUSR1)
            except ProcessLookupError:
                pass
        time.sleep(STACK_WAIT)
        where = {rank: _innermost(self._stack_file(rank)) for rank in silent}
        blamed = [r for r in silent if where[r] and not where[r][1]] or silent
        waited = [r for r in silent if r not in blamed]
        text = "; ".join(f"rank {r} " + (f"was in {where[r][0]}" if where[r] else "gave no stack") for r in blamed)
        return (f"{text}: no answer to {command} within {self.timeout:g} s"
                + (f" (rank{'s' if len(waited) > 1 else ''} {', '.join(map(str, waited))} waited in a collective "
                   "for it)" if waited else ""))

    def _fail(self, message):
        self.close()
        raise RankFailure(message)

    def close(self):
        """Ends every rank: asked first, then killed; nothing is left running."""
        for connection in self.connections:
            try:
                connection.send(None)
            except OSError:
                pass
        end = time.monotonic() + 1.0
        for process in self.processes:
            process.join(max(end - time.monotonic(), 0))
            if process.is_alive():
                process.kill()
                process.join(5)
        for connection in self.connections:
            connection.close()
        self.connections, self.processes = [], []
        shutil.rmtree(self.stacks, ignore_errors=True)

    @property
    def alive(self):
        return bool(self.processes) and all(p.is_alive() for p in self.processes)


class _Forked:
    """A forked child running ``target(*args)``, which ends it with os._exit. multiprocessing's Process
    is not used: the check's worker is a daemon process, and those may not start children."""

    def __init__(self, target, *args):
        self.exitcode = None
        self.pid = os.fork()
        if self.pid == 0:
            try:
                target(*args)
            finally:
                os._exit(1)

    def _reap(self, flags):
        if self.exitcode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:
                self.exitcode = -signal.SIGKILL
                return
            if pid:
                self.exitcode = os.waitstatus_to_exitcode(status)

    def is_alive(self):
        self._reap(os.WNOHANG)
        return self.exitcode is None

    def join(self, timeout):
        end = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < end:
            time.sleep(0.01)

    def kill(self):
        if self.is_alive():
            os.kill(self.pid, signal.SIGKILL)


def _how(process):
    code = process.exitcode
    if code is None:
        return "stopped answering"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _innermost(path):
    """(the innermost frame outside torch, whether the innermost of all is in torch.distributed: a collective),
    from a faulthandler dump; None if there is none."""
    try:
        with open(path) as dump:
            frames = [line.strip() for line in dump if line.strip().startswith("File ")]
    except OSError:
        return None
    if not frames:
        return None
    inside = f"{os.sep}torch{os.sep}distributed{os.sep}" in frames[0]  # the innermost frame waits there
    mine = [f for f in frames if f"{os.sep}torch{os.sep}" not in f and not f.endswith("in _serve")]
    return (mine[0] if mine else frames[0]).removeprefix("File "), inside


def _serve(rank, world, connection, factory, sharding, stack_file, timeout):
    """A rank: joins the group, then answers commands until its pipe ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the adapter's process, however that ends
    if os.getppid() == 1:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    dump = open(stack_file, "w")
    faulthandler.register(signal.SIGUSR1, file=dump, all_threads=False)
    import torch
    import torch.distributed as dist

    from optgold import shardings
    from optgold.check import _origin  # where an implementation's error came from, as the check says it

    torch.set_num_threads(1)
    held = store = None
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            break
        if message is None:
            break
        command, args = message
        try:
            if command == "store":  # rank 0: the group's store, on the port asked for (0: any free one)
                port = args[0]
                if port is not None:
                    try:
                        store = dist.TCPStore(HOST, port, world, True, timedelta(seconds=timeout),
                                              wait_for_workers=False)
                    except (RuntimeError, OSError) as error:
                        connection.send(("ok", str(error).splitlines()[0]))
                        continue
                answer = store.port if store is not None else None
            elif command == "join":
                if store is None:
                    store = dist.TCPStore(HOST, args[0], world, False, timedelta(seconds=timeout))
                # gloo's own timeout is longer than the pool's: a collective left waiting for a hung rank
                # must not raise first, or the waiting rank would be the one named
                dist.init_process_group("gloo", store=store, rank=rank, world_size=world,
                                        timeout=timedelta(seconds=GLOO_TIMEOUT_FACTOR * timeout))
                answer = None
            elif command == "build":
                held = None
                held = shardings.SHARDINGS[sharding](factory, *args, rank=rank, world=world)
                answer = held.owners()
            else:
                answer = getattr(held, command)(*args)
            reply = ("ok", answer)
        except BaseException as error:  # the implementation's, reported with where it came from
            reply = ("error", f"{type(error).__name__}: {error}{_origin(error)}")
        try:
            connection.send(reply)
        except OSError:
            break
    try:
        dist.destroy_process_group()
    except Exception:
        pass
    os._exit(0)
