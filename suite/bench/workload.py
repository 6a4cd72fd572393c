"""An optimizer stepping on a workload (suite/bench/shapes.py), always from the same state.

A ``StepBench`` owns its parameters, gradients and optimizer. It takes one untimed
step on construction (so that state is allocated, as in training), snapshots
params, grads and state, and ``setup()`` copies the snapshot back before every timed
step: pytest-benchmark's pedantic mode with fresh state. Each timed step therefore
sees the same inputs, whatever ran before it.
"""
from dataclasses import dataclass

import torch

from optgold import reference
from optgold.reference.errors import UsageError
from optgold.bench.shapes import WORKLOADS

DTYPES = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16}


class ImplementationError(UsageError):
    """The implementation raised while a benchmark built or stepped it: the benchmark cannot time it.

    A usage error (exit 2), not a slowdown (exit 1): the message, one line, says what it raised.
    """


class ConstructionError(ImplementationError):
    """The implementation could not be built for this workload; the message says why."""


class StepError(ImplementationError):
    """The implementation raised in a step after it was built (or its state could not be restored);
    ``bench`` is the StepBench, so that the caller can say which side it was."""

    def __init__(self, message, bench):
        super().__init__(message)
        self.bench = bench


def first_line(error):
    """``Type: message``, the message cut to its first line: exception texts (torch's) can run to many."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def hyperparameters(ref_name, overrides):
    """The reference's torch defaults with ``overrides``; only those differing from the defaults are passed on.

    As in ``optgold check``, leaving defaults out means a class need not accept every torch flag.
    """
    defaults = reference.get(ref_name).DEFAULTS
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise KeyError(f"not a hyperparameter of {ref_name!r}: {', '.join(sorted(unknown))}; "
                       f"known: {', '.join(defaults)}")
    full = {**defaults, **overrides}
    return full, {k: v for k, v in full.items() if v != defaults[k]}


def _tensors_of(optimizer_state):
    for value in optimizer_state.values():
        if torch.is_tensor(value):
            yield value


@dataclass
class Snapshot:
    params: list
    grads: list
    state: list  # per param: {name: tensor clone or plain value}


class StepBench:
    """One implementation on one workload: ``setup()`` then ``step()``, as often as needed.

    ``share_memory_with`` another StepBench makes this one step on the same parameter,
    gradient and (where names, shapes and dtypes agree) state tensors. Two sides of a
    comparison then read and write the same memory. Without that, of two identical
    torch Adams (foreach) the one built first ran 1-4% slower, significantly so (sign
    test p < 0.005) in 3 of 10 A/A runs: where arrays happen to lie is not a property
    of the implementation. Sharing is safe because every timed step starts with
    ``setup()`` restoring the same snapshot.
    """

    def __init__(self, factory, workload, hp, impl_args, dtype="float32", device="cpu", seed=0,
                 share_memory_with=None):
        self.workload, self.device = workload, torch.device(device)
        self.params = share_memory_with.params if share_memory_with else self._make_params(seed, dtype)
        kwargs = {**hp, **impl_args}
        try:
            self.optimizer = factory(self.params, **kwargs)
            self.optimizer.step()  # allocates the state, as the first step of training does
        except NotImplementedError as error:
            raise ConstructionError(f"the implementation does not support {kwargs}: {first_line(error)}") from None
        except Exception as error:
            raise ConstructionError(f"constructing or stepping with {kwargs} raised {first_line(error)}") from None
        if share_memory_with:
            share_memory_with.setup()  # both start from the other's snapshot
            self._adopt_state_of(share_memory_with)
        self.snapshot = self._take_snapshot(share_memory_with.snapshot if share_memory_with else None)

    def _make_params(self, seed, dtype):
        generator = torch.Generator().manual_seed(seed)
        params = []
        for shape in WORKLOADS[self.workload]:
            p = torch.randn(shape, generator=generator, dtype=torch.float64).to(DTYPES[dtype]).to(self.device)
            p.requires_grad_(True)
            p.grad = (1e-2 * torch.randn(shape, generator=generator, dtype=torch.float64)).to(p)
            params.append(p)
        return params

    def _adopt_state_of(self, other):
        """Use the other bench's state tensors where this optimizer keeps a tensor of the same name, shape, dtype."""
        for p in self.params:
            mine, theirs = self._state_of(p), other._state_of(p)
            for name, tensor in theirs.items():
                current = mine.get(name)
                if (torch.is_tensor(tensor) and torch.is_tensor(current) and current.shape == tensor.shape
                        and current.dtype == tensor.dtype and current.device == tensor.device):
                    mine[name] = tensor
                elif name in mine and not torch.is_tensor(current):
                    mine[name] = theirs[name]

    @property
    def params_count(self):
        return sum(p.numel() for p in self.params)

    def _state_of(self, p):
        return getattr(self.optimizer, "state", {}).get(p, {})

    def _take_snapshot(self, shared=None):
        clone = lambda v: v.detach().clone() if torch.is_tensor(v) else v  # noqa: E731
        state = [{k: clone(v) for k, v in self._state_of(p).items()} for p in self.params]
        if shared:  # same params and grads: their snapshot is ours
            return Snapshot(shared.params, shared.grads, state)
        return Snapshot([p.detach().clone() for p in self.params], [p.grad.clone() for p in self.params], state)

    @torch.no_grad()
    def setup(self):
        """Restore params, grads and state to the snapshot (untimed)."""
        try:
            for p, p0, g0, s0 in zip(self.params, self.snapshot.params, self.snapshot.grads, self.snapshot.state):
                p.copy_(p0)
                p.grad.copy_(g0)
                state = self._state_of(p)
                for name, value in s0.items():
                    if torch.is_tensor(value) and torch.is_tensor(state.get(name)):
                        state[name].copy_(value)
                    else:
                        state[name] = value
        except Exception as error:  # the implementation replaced a state tensor by one of another shape, ...
            raise StepError(f"left state that could not be restored between steps ({first_line(error)})",
                            self) from error

    def step(self):
        try:
            self.optimizer.step()
        except Exception as error:
            raise StepError(f"raised {first_line(error)}", self) from error

    def synchronize(self):
        if self.device.type == "cuda":
            try:
                torch.cuda.synchronize(self.device)
            except Exception as error:  # an asynchronous kernel error of the step surfaces here
                raise StepError(f"raised {first_line(error)}", self) from error

    def state_bytes(self):
        """Bytes of optimizer state tensors (exp_avg, momentum_buffer, step counters, ...)."""
        return sum(t.numel() * t.element_size() for p in self.params for t in _tensors_of(self._state_of(p)))

    def resident_bytes(self):
        """Params, grads and state: what is held between steps."""
        held = sum(2 * p.numel() * p.element_size() for p in self.params)
        return held + self.state_bytes()
