"""Adam whose rank 1 fails at its third step, in each way a rank can: it raises, hangs, exits or is killed."""
import os
import signal
import time

import torch
import torch.distributed as dist

AT = 3


class _FailsOnRankOne(torch.optim.Adam):
    def step(self, closure=None):
        self.steps_taken = getattr(self, "steps_taken", 0) + 1
        if dist.get_rank() == 1 and self.steps_taken == AT:
            self.fail()
        return super().step(closure)


class Raises(_FailsOnRankOne):
    def fail(self):
        raise RuntimeError("injected on rank 1")


class Hangs(_FailsOnRankOne):
    def fail(self):
        time.sleep(3600)


class Exits(_FailsOnRankOne):
    def fail(self):
        os._exit(3)


class Killed(_FailsOnRankOne):
    def fail(self):
        os.kill(os.getpid(), signal.SIGKILL)
