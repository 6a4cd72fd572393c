"""LAMB and Muon for FSDP2 DTensor parameters: tests/mutants' hand-written ones, correct on DTensors as they are,
and ported with the shard-local shortcut (``to_local()``) where the algorithm needs the whole tensor."""
import torch

from tests.mutants.lamb_mutants import Lamb
from tests.mutants.muon_mutants import Muon


def _local(t):
    return t.to_local() if hasattr(t, "to_local") else t


class LambShardNorm(Lamb):
    """The trust ratio's norms are taken over this rank's shard: each rank scales its rows by its own ratio."""

    def trust_ratio(self, params, updates):
        ratios = []
        for p, update in zip(params, updates):
            w_norm, u_norm = _local(p).norm(), _local(update).norm()  # BUG: the tensor's norm, not the shard's
            ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else torch.ones(())
            ratios.append(float(ratio))
        return ratios


class MuonShardOrthogonalized(Muon):
    """Newton-Schulz runs on this rank's rows of the momentum: the shard is orthogonalized, not the matrix."""

    def orthogonalize(self, m, group):
        from torch.distributed.tensor import DTensor

        local = super().orthogonalize(_local(m), group)  # BUG: needs the whole matrix (all-gathered)
        return DTensor.from_local(local, m.device_mesh, m.placements, shape=m.shape, stride=m.stride())


class MuonNormAveraged(Muon):
    """The Frobenius norm Newton-Schulz starts from, reduced by hand over the ranks: the squared sums are
    averaged where they must be summed, so the iteration starts from a matrix sqrt(ranks) times too large."""

    def normalize(self, x, eps):
        import torch.distributed as dist

        squares = _local(x).pow(2).sum()
        dist.all_reduce(squares)
        squares /= dist.get_world_size()  # BUG: the norm of the whole matrix sums the shards' squares
        return x / squares.sqrt().clamp(min=eps).item()
