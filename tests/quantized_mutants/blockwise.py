"""An 8-bit Adam on bitsandbytes' state layout with blocks of 4 elements, and its quantization bugs.

``BlockwiseAdam8bit`` keeps state1/state2 (uint8 codes), qmap1/qmap2 (bitsandbytes' signed and
unsigned dynamic maps) and absmax1/absmax2 (one per block of BLOCK elements), as bitsandbytes'
Adam8bit does, so optgold.quantized reads it as bitsandbytes'. Each step dequantizes with
bitsandbytes' kernel, updates in float32 as torch's Adam does, and quantizes to the nearest code.
Blocks of 4, not bitsandbytes' 256: Adam's golden cases hold tensors of 4 to 12 elements, which
then span several blocks. Each mutant differs from it in one place, marked ``# BUG``.
"""
import math

import bitsandbytes
import torch


class BlockwiseAdam8bit(bitsandbytes.optim.Adam8bit):
    """Correct: absmax per block of 4, codes to the nearest value of the state's own map."""
    BLOCK = 4

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        if amsgrad:
            raise NotImplementedError("amsgrad: no 8-bit max_exp_avg_sq")
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, min_8bit_size=1)
        if any(g.get("amsgrad") for g in self.param_groups):
            raise NotImplementedError("amsgrad: no 8-bit max_exp_avg_sq")

    def init_state(self, group, p, gindex, pindex):
        super().init_state(group, p, gindex, pindex)
        for slot in (1, 2):
            self.state[p][f"absmax{slot}"] = torch.zeros(-(-p.numel() // self.BLOCK))

    @torch.no_grad()
    def update_step(self, group, p, gindex, pindex):
        state = self.state[p]
        (beta1, beta2), lr, eps, decay = group["betas"], group["lr"], group["eps"], group["weight_decay"]
        state["step"] += 1
        t = state["step"]
        m, v = (torch.ops.bitsandbytes.dequantize_blockwise(state[f"state{s}"], state[f"absmax{s}"], state[f"qmap{s}"],
                                                            self.BLOCK, torch.float32) for s in (1, 2))
        grad = p.grad.float() if not decay else p.grad.float().add(p, alpha=decay)
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (v.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        p.addcdiv_(m, denom, value=-lr / (1 - beta1 ** t))
        self.store(state, 1, m)
        self.store(state, 2, v)

    def store(self, state, slot, values):
        flat = values.reshape(-1)
        absmax = self.absmax(flat)
        scales = absmax.repeat_interleave(self.BLOCK)[:flat.numel()]
        state[f"state{slot}"].copy_(self.codes(flat / scales, self.quantize_map(state, slot)).reshape(values.shape))
        state[f"absmax{slot}"].copy_(self.stored_absmax(absmax))

    def absmax(self, flat):
        """max |value| over each block of BLOCK."""
        return block_max(flat, self.BLOCK)

    def stored_absmax(self, absmax):
        return absmax

    def quantize_map(self, state, slot):
        return state[f"qmap{slot}"]

    def codes(self, scaled, qmap):
        """The nearest code: between the midpoints to its neighbours (the map is sorted)."""
        return torch.bucketize(scaled, (qmap[:-1] + qmap[1:]) / 2).to(torch.uint8)


def block_max(flat, block):
    padded = torch.zeros(-(-flat.numel() // block) * block)
    padded[:flat.numel()] = flat.abs()
    return padded.reshape(-1, block).amax(dim=1)


class AbsmaxOverBlocksOf8(BlockwiseAdam8bit):
    """The kernel's block is twice the state's layout (8, not 4): each slot holds the max over the
    kernel block that covers it, as a state made with one block size and read with another."""

    def absmax(self, flat):
        slots = -(-flat.numel() // self.BLOCK)
        return block_max(flat, 2 * self.BLOCK).repeat_interleave(2)[:slots]  # BUG: blocks of 8


class AbsmaxOverTheWholeTensor(BlockwiseAdam8bit):
    """One absmax over the whole tensor, written to every block's slot."""

    def absmax(self, flat):
        return torch.full((-(-flat.numel() // self.BLOCK),), float(flat.abs().max()))  # BUG: not per block


class AbsmaxOneSlotLate(BlockwiseAdam8bit):
    """Each block quantized with its own absmax, which is written to the next block's slot (the
    last to the first): an off-by-one in the kernel's absmax index."""

    def stored_absmax(self, absmax):
        return torch.roll(absmax, 1)  # BUG: slot b + 1


class CodesRoundedDown(BlockwiseAdam8bit):
    """The binary search's result kept without the rounding step: the map value at or below."""

    def codes(self, scaled, qmap):
        return (torch.searchsorted(qmap, scaled, right=True) - 1).clamp(min=0).to(torch.uint8)  # BUG: floor


class SignedMapForSecondMoment(BlockwiseAdam8bit):
    """exp_avg_sq quantized with qmap1 (the signed map) while its state holds qmap2 (unsigned)."""

    def quantize_map(self, state, slot):
        return state["qmap1"]  # BUG: qmap1 for both


MUTANTS = (AbsmaxOverBlocksOf8, AbsmaxOverTheWholeTensor, AbsmaxOneSlotLate, CodesRoundedDown,
           SignedMapForSecondMoment)
