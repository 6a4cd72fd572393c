"""FSDP2 (fully_shard) as a sharding."""
import torch

from optgold.shardings.base import Sharding, View, flat


class Fsdp2(Sharding):
    """fully_shard (FSDP2): each parameter is a DTensor sharded on dim 0 across the ranks (torch.chunk's
    split: ceil(rows / world) rows each, the last ranks shorter or empty), and IMPL steps the shards.
    State that is a DTensor sharded as its parameter is read shard by shard; any other DTensor is
    gathered with full_tensor(); a plain tensor shaped like this rank's shard is taken as its shard.
    Checkpoints go through torch.distributed.checkpoint (get/set_optimizer_state_dict, dcp.save/load),
    which reshards them for another world size. fully_shard refuses 0-dim parameters, so a 0-dim
    tensor is held as shape (1,)."""
    NAME = "fsdp2"
    DESCRIPTION = "fully_shard (FSDP2, DTensor sharded on dim 0), IMPL built over the sharded parameters"

    def _shard(self, tensors):
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        self.mesh = init_device_mesh("cpu", (self.world,))
        self.module = torch.nn.Module()
        for k, t in enumerate(tensors):
            self.module.register_parameter(f"p{k}", torch.nn.Parameter(t.clone().reshape(t.shape or (1,))))
        fully_shard(self.module, mesh=self.mesh)
        return [getattr(self.module, f"p{k}") for k in range(len(tensors))]

    def rows(self, k):
        """(start, stop) of dim 0 that this rank holds of tensor ``k``."""
        n = (self.shapes[k] or (1,))[0]
        size = -(-n // self.world)
        return min(self.rank * size, n), min((self.rank + 1) * size, n)

    def _local(self, p):
        return p.to_local()

    def _gradient(self, k, full):
        from torch.distributed.tensor import DTensor

        p, (start, stop) = self.params[k], self.rows(k)
        local = full.reshape(p.shape)[start:stop].contiguous()
        return DTensor.from_local(local, self.mesh, p.placements, shape=p.shape, stride=p.stride())

    def _param_view(self, k, p):
        return View("rows", flat(p.to_local()), *self.rows(k))

    def _value_view(self, k, p, value):
        from torch.distributed.tensor import DTensor

        if isinstance(value, DTensor):  # shards laid out as the parameter's are read where they are
            if value.placements == p.placements and value.shape == p.shape:
                return View("rows", flat(value.to_local()), *self.rows(k))
            return View("full", flat(value.full_tensor()))
        if isinstance(value, torch.Tensor) and value.dim() and tuple(value.shape) == tuple(p.to_local().shape):
            return View("rows", flat(value), *self.rows(k))
        return View("same", flat(torch.as_tensor(value)))

    def owners(self):
        return [None] * len(self.params)

    def save(self, directory):
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        dcp.save({"optimizer": get_optimizer_state_dict(self.module, self.optimizer)}, checkpoint_id=directory)
        self.save_scheduler(directory)

    def load(self, directory):
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict

        held = {"optimizer": get_optimizer_state_dict(self.module, self.optimizer)}
        dcp.load(held, checkpoint_id=directory)
        set_optimizer_state_dict(self.module, self.optimizer, held["optimizer"])
        self.load_scheduler(directory)
