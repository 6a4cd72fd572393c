"""Quantized optimizer state: read back dequantized under torch's names, and judged code by code.

8-bit and 4-bit optimizers (bitsandbytes' Adam8bit, torchao's AdamW8bit) keep a state buffer
as codes into a map of code values (qmap), scaled per block of elements by the block's absmax.
A step dequantizes, updates in float32 and quantizes again:

    absmax_b = max |s_i| over block b,    code_i = the map value nearest s_i / absmax_b

So from the exact new state s* (the reference's one step from the implementation's own
dequantized previous state and params, optgold.local.LocalJudge.step) the stored state must
hold, up to the float32 rounding r_i of the step that computed s_i:

    absmax_b within max_{i in b} r_i of max_{i in b} |s*_i|
    s*_i within r_i of absmax_b * cell(code_i)

cell(c) is the interval between the midpoints from code value c to its neighbours in the map
(the lowest and the highest reach to infinity: values past the map's ends clamp to them).
r_i is optgold.local's state rounding bound, C * (u * (terms + mean terms) + floor) with terms
|s*_i| + |s_{i, before}|. The tolerance used is the worst |absmax error| / bound, and the worst
distance of s* outside its cell / r_i (0 inside).

A failure names what explains the stored codes, from VARIANTS: absmax over blocks of another
size or the whole tensor, absmax held one block off, codes rounded down, the other map.

READERS is a registry of one reader per library (the way optgold.adapters registers adapters):

    owns(optimizer)            whether the optimizer is the library's
    buffers(optimizer, state)  {torch name: Quantized, or a plain float tensor} of one
                               parameter's state (a library keeps 32-bit state for small tensors)
"""
import sys
from dataclasses import dataclass

import numpy as np
import torch

from optgold import compare

READERS = {}


def register(library):
    def add(cls):
        READERS[library] = cls()
        return cls
    return add


def reader_for(optimizer):
    """The reader of the library ``optimizer`` is from, or None."""
    return next((r for r in READERS.values() if r.owns(optimizer)), None)


@dataclass(frozen=True)
class Quantized:
    """One parameter's state buffer as the library stores it: one code per element, the map the
    codes index, one absmax per block of ``block`` elements."""
    library: str
    codes: np.ndarray  # uint8, flat, one per element (4-bit codes unpacked)
    qmap: np.ndarray  # float32 code values, indexed by code
    absmax: np.ndarray  # float32, one per block
    block: int
    absmax_floor: float = 0.0  # the least absmax the library stores (torchao clips at 1e-12 to divide by it)

    @property
    def signed(self):
        return bool(self.qmap.min() < 0)

    def scales(self):
        """Each element's absmax (float32), by the declared block layout."""
        return self.absmax[np.arange(len(self.codes)) // self.block]

    def dequantized(self):
        """As the library dequantizes: qmap[code] * absmax, one float32 product."""
        return (self.qmap[self.codes.astype(np.int64)] * self.scales()).astype(np.float32).astype(np.float64)

    def describe(self):
        bits = 4 if len(self.qmap) <= 16 else 8
        return f"{bits}-bit codes, {'signed' if self.signed else 'unsigned'} map, blocks of {self.block}"


def _numpy(tensor):
    return tensor.detach().to("cpu").reshape(-1).numpy().copy()


def _layout_block(n, blocks):
    """The block size of an absmax of ``blocks`` entries over ``n`` elements: the power of two the
    libraries use. Exact wherever there are two blocks or more; with one, every block size from n
    up quantizes alike."""
    return 1 << max(0, int(np.ceil(n / max(blocks, 1))) - 1).bit_length()


@register("bitsandbytes")
class Bitsandbytes:
    """bitsandbytes' Optimizer8bit: state1/state2 (uint8 codes, or float32 below min_8bit_size),
    qmap1/qmap2 (256 code values: the signed dynamic map for state1, unsigned for Adam's state2)
    and absmax1/absmax2 (per block of 256, its blockwise kernels' constant; an absmax of another length,
    as an optimizer on bitsandbytes' layout with its own block size keeps, gives the block it implies)."""
    NAMES = {"adam": ("exp_avg", "exp_avg_sq"), "lamb": ("exp_avg", "exp_avg_sq"), "lion": ("exp_avg",),
             "momentum": ("momentum_buffer",), "rmsprop": ("square_avg",), "adagrad": ("sum",)}
    BLOCK = 256

    def owns(self, optimizer):
        module = sys.modules.get("bitsandbytes.optim.optimizer")
        return module is not None and isinstance(optimizer, module.Optimizer8bit)

    def buffers(self, optimizer, state):
        names = self.NAMES.get(getattr(optimizer, "optimizer_name", None), ())
        found = {}
        for slot, name in enumerate(names, start=1):
            held = state.get(f"state{slot}")
            if not isinstance(held, torch.Tensor):
                continue
            if held.dtype != torch.uint8:
                found[name] = held
                continue
            absmax = _numpy(state[f"absmax{slot}"])
            n = held.numel()
            block = self.BLOCK if -(-n // self.BLOCK) == len(absmax) else _layout_block(n, len(absmax))
            found[name] = Quantized("bitsandbytes", _numpy(held), _numpy(state[f"qmap{slot}"]).astype(np.float32),
                                    absmax.astype(np.float32), block)
        return found

    def maps(self):
        """{label: code values} of the maps the library has."""
        from bitsandbytes import functional

        return {"signed dynamic": functional.create_dynamic_map(signed=True).numpy(),
                "unsigned dynamic": functional.create_dynamic_map(signed=False).numpy()}


@register("torchao")
class Torchao:
    """torchao's optimizers (AdamW8bit, AdamW4bit): exp_avg, exp_avg_sq as tensor subclasses with
    codes (4-bit: two per byte, the high nibble first), scale (absmax per block) and qmap; a
    plain tensor below 4096 elements or where the block size does not divide the tensor."""
    SCALE_FLOOR = 1e-12  # quant_utils.scale_tensor: amax.clip(1e-12)

    def owns(self, optimizer):
        module = sys.modules.get("torchao.optim.adam")
        return module is not None and isinstance(optimizer, module._AdamBase)

    def buffers(self, optimizer, state):
        found = {}
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            held = state.get(name)
            if held is None:
                continue
            if not hasattr(held, "codes"):
                found[name] = held
                continue
            codes = _numpy(held.codes)
            if len(held.qmap) <= 16:  # packed 4-bit codes
                codes = np.stack([codes >> 4, codes & 0b1111], axis=-1).reshape(-1)
            found[name] = Quantized("torchao", codes, _numpy(held.qmap).astype(np.float32),
                                    _numpy(held.scale).astype(np.float32), int(held.block_size), self.SCALE_FLOOR)
        return found

    def maps(self):
        from torchao.optim import subclass_4bit, subclass_8bit

        return {"signed dynamic": np.array(subclass_8bit.get_qmap_signed(), dtype=np.float32),
                "unsigned dynamic": np.array(subclass_8bit.get_qmap_unsigned(), dtype=np.float32),
                "signed 4-bit dynamic": np.array(subclass_4bit.get_qmap_signed(), dtype=np.float32),
                "unsigned 4-bit linear": np.array(subclass_4bit.get_qmap_unsigned(), dtype=np.float32)}


# --- judging ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuantizedDivergence(compare.Divergence):
    """A Divergence whose message adds why the stored codes are wrong."""
    cause: str = ""

    def describe(self):
        return f"{super().describe()}; {self.cause}"


SEARCH_STEP = 2.0 ** -15  # one step of a 2^16-entry lookup over [-1, 1]: bitsandbytes' CPU BinSearch, measured


def cells(qmap, rounding="nearest"):
    """(low, high) of each code's cell: the values it stands for. Nearest: between the midpoints
    to its neighbours; down: from its value to the next one up (a search without the rounding);
    approximate: the nearest's, widened by SEARCH_STEP each side (a search that resolves no finer)."""
    values = qmap.astype(np.float64)
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    below = np.concatenate([[-np.inf], ranked[:-1]])
    above = np.concatenate([ranked[1:], [np.inf]])
    if rounding == "down":
        low, high = ranked, above
    else:
        widen = SEARCH_STEP if rounding == "approximate" else 0.0
        low, high = (below + ranked) / 2 - widen, (ranked + above) / 2 + widen
    low[0] = -np.inf
    out_low, out_high = np.empty_like(values), np.empty_like(values)
    out_low[order], out_high[order] = low, high
    return out_low, out_high


def _outside(exact, scales, codes, qmap, rounding, allowance):
    """How far each exact value lies outside scale * cell(code), in units of ``allowance``."""
    low, high = cells(qmap, rounding)
    with np.errstate(invalid="ignore"):
        lo = np.where(scales > 0, scales * low[codes], 0.0)
        hi = np.where(scales > 0, scales * high[codes], 0.0)
    distance = np.maximum(np.maximum(lo - exact, exact - hi), 0.0)
    return distance / allowance


def block_max(values, block):
    """max |values| over each block of ``block`` elements."""
    n = len(values)
    padded = np.zeros(-(-n // block) * block)
    padded[:n] = np.abs(values)
    return padded.reshape(-1, block).max(axis=1)


def judge(name, t, k, buffer, exact, allowance):
    """(a QuantizedDivergence or None, the tolerance used) of one stored ``buffer`` at step t, tensor
    k, against the ``exact`` new state walked from the implementation's own dequantized state, each
    element within ``allowance`` (the state's rounding bound, optgold.local.state_bound)."""
    codes = buffer.codes.astype(np.int64)
    expected_max = np.maximum(block_max(exact, buffer.block), buffer.absmax_floor)
    slot_bound = block_max(allowance, buffer.block)
    if len(buffer.absmax) != len(expected_max):
        return (QuantizedDivergence(f"{name} absmax (quantized state)", t, k, (), float(len(buffer.absmax)),
                                    float(len(expected_max)), 0.0,
                                    f"{len(buffer.absmax)} absmax values for {len(exact)} elements in blocks of "
                                    f"{buffer.block}: the layout holds {len(expected_max)}"), 1.0)
    slot_ratio = np.abs(buffer.absmax - expected_max) / slot_bound
    cell_ratio = _outside(exact, buffer.scales(), codes, buffer.qmap, "nearest", allowance)
    used = float(np.max([slot_ratio.max(initial=0.0), cell_ratio.max(initial=0.0)]))  # NaN stays NaN
    if not (used <= 1.0):  # a NaN fails too
        return _divergence(name, t, k, buffer, exact, allowance, slot_ratio, cell_ratio), 1.0
    return None, used


def _divergence(name, t, k, buffer, exact, allowance, slot_ratio, cell_ratio):
    explained = explain(buffer, exact, allowance)
    if not (np.nan_to_num(slot_ratio, nan=np.inf) <= 1).all():
        b = int(np.argmax(np.nan_to_num(slot_ratio, nan=np.inf)))
        first, last = b * buffer.block, min((b + 1) * buffer.block, len(exact)) - 1
        cause = (f"absmax of block {b} (elements {first}..{last}) is not max |{name}| over it; {explained}")
        return QuantizedDivergence(f"{name} absmax (quantized state: {buffer.describe()})", t, k, (b,),
                                   float(buffer.absmax[b]),
                                   float(max(block_max(exact, buffer.block)[b], buffer.absmax_floor)),
                                   float(block_max(allowance, buffer.block)[b]), cause)
    i = int(np.argmax(np.nan_to_num(cell_ratio, nan=np.inf)))
    low, high = cells(buffer.qmap)
    scale = float(buffer.scales()[i])
    code = int(buffer.codes[i])
    cause = (f"its code {code} stands for [{scale * low[code]:.6g}, {scale * high[code]:.6g}] "
             f"(absmax {scale:.6g}), which does not hold the exact state; {explained}")
    return QuantizedDivergence(f"{name} code (quantized state: {buffer.describe()})", t, k, (i,),
                               float(buffer.dequantized()[i]), float(exact[i]), float(allowance[i]), cause)


def variants(buffer, exact):
    """(description, per-element scale the codes were made with, expected absmax per slot or None,
    map, rounding) of each named way the stored state could have been made from ``exact``."""
    n, block = len(exact), buffer.block
    own = block_max(exact, block)
    own_scales = own[np.arange(n) // block]
    out = []
    for other in sorted({min(b, n) for b in (64, 256, 2048, block // 2, block * 2, n) if b >= 1} - {min(block, n)}):
        scales = block_max(exact, other)[np.arange(n) // other]
        slots = scales[np.arange(len(buffer.absmax)) * block] if other > block else None
        label = "the whole tensor" if other >= n else f"blocks of {other}"
        out.append((f"absmax is over {label}, not blocks of {block}", scales, slots, buffer.qmap, "nearest"))
    if len(own) > 1:
        for shift, where in ((1, "the next"), (-1, "the previous")):
            out.append((f"each block's absmax is held in {where} block's slot", own_scales, np.roll(own, shift),
                        buffer.qmap, "nearest"))
    out.append(("codes are rounded down (the map value at or below), not to the nearest", own_scales, own,
                buffer.qmap, "down"))
    reader = READERS.get(buffer.library)
    for label, qmap in (reader.maps().items() if reader is not None else ()):
        if len(qmap) == len(buffer.qmap) and not np.array_equal(np.asarray(qmap, dtype=np.float32), buffer.qmap):
            out.append((f"codes index the {label} map, not the {'signed' if buffer.signed else 'unsigned'} "
                        "map the state holds", own_scales, own, np.asarray(qmap, dtype=np.float32), "nearest"))
    out.append((f"codes are a map value near the state but not the nearest: within {SEARCH_STEP:g} of absmax "
                "(an approximate search, as bitsandbytes' CPU kernel's BinSearch)", own_scales, own, buffer.qmap,
                "approximate"))
    return out


def explain(buffer, exact, allowance):
    """The named variant that explains the stored codes and absmax, as words."""
    slot_allowance = block_max(allowance, buffer.block)
    codes = buffer.codes.astype(np.int64)
    for description, scales, slots, qmap, rounding in variants(buffer, exact):
        if slots is not None and not (np.abs(buffer.absmax - slots) <= slot_allowance).all():
            continue
        if (_outside(exact, scales, codes, qmap, rounding, allowance) <= 1).all():
            return f"explained by: {description}"
    return "no named variant (block size, absmax slot, rounding, map) explains the stored codes"


def recorded(run, t, name, k):
    """The Quantized buffer of state ``name`` of tensor k after step t, or None."""
    if t < 1 or t > len(getattr(run, "quantized", ())):
        return None
    per_tensor = run.quantized[t - 1].get(name)
    return per_tensor[k] if per_tensor is not None else None


def any_recorded(steps):
    """Whether any step recorded a quantized buffer (steps: per step {name: [Quantized or None]})."""
    return any(q is not None for step in steps for per_tensor in step.values() for q in per_tensor)


def note(steps, shapes):
    """Which tensors' state was quantized, for a passing case's message."""
    held = {k for step in steps for per_tensor in step.values() for k, q in enumerate(per_tensor) if q is not None}
    example = next(q for step in steps for per_tensor in step.values() for q in per_tensor if q is not None)
    plain = [k for k in range(len(shapes)) if k not in held]
    text = (f"quantized state ({example.library}: {example.describe()}) judged code by code from the exact step "
            f"on its own dequantized state")
    if plain:
        text += (f"; tensor{'s' if len(plain) > 1 else ''} {', '.join(map(str, plain))} kept unquantized state (the "
                 "library's rule: below its size threshold, or not whole blocks), judged as float32")
    return text
