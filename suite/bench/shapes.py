"""The parameter lists an optimizer step is benchmarked on (no torch import: the CLI lists them)."""


def _transformer(layers=8, width=256, vocab=8192):
    """A small pre-norm transformer's parameter list: embedding, then per layer norms, attention, MLP."""
    shapes = [(vocab, width)]
    for _ in range(layers):
        shapes += [(width,), (width,), (3 * width, width), (3 * width,), (width, width), (width,),
                   (width,), (width,), (4 * width, width), (4 * width,), (width, 4 * width), (width,)]
    return shapes


WORKLOADS = {
    "many-small": [(2048,)] * 512,  # 1M params in 512 tensors: per-tensor overhead dominates
    "transformer": _transformer(),  # 8.4M params in 97 tensors of mixed sizes
    "few-large": [(4 << 20,)] * 4,  # 16.8M params in 4 tensors: memory bandwidth dominates
    "tiny": [(32, 32)] * 4,  # 4K params: smoke tests only
}
DEFAULT_WORKLOADS = ("many-small", "transformer", "few-large")
DTYPES = ("bfloat16", "float32", "float64")


def param_count(workload):
    total = 0
    for shape in WORKLOADS[workload]:
        count = 1
        for size in shape:
            count *= size
        total += count
    return total
