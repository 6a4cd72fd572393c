"""Weight averaging along a trajectory: SWA's running mean and an exponential moving average.

    first update:  w_avg = w
    SWA (Izmailov et al., 2018):  w_avg = w_avg + (w - w_avg) / (n + 1),  n = updates so far
    EMA:                          w_avg = w_avg + (1 - decay) * (w - w_avg)

torch.optim.swa_utils.AveragedModel applies these to the parameters, and to the
buffers too when use_buffers=True; otherwise it copies the model's buffers at each
update. EMA is written as torch computes it (a lerp); decay * w_avg + (1 - decay) * w
is the same in exact arithmetic.
"""
DEFAULTS = {"swa": dict(use_buffers=False), "ema": dict(decay=0.999, use_buffers=False)}

VARIANTS = {
    "torch": "torch.optim.swa_utils.AveragedModel",
    "no_copy_on_first_update": "the average starts from zero instead of the first weights (EMA: biased early)",
    "count_off_by_one": "SWA divides by n instead of n + 1",
}


def average(kind, params, buffers, *, decay=None, use_buffers=False, variant="torch"):
    """The averaged (params, buffers) after each update, given the model's values at each update."""
    avg_p, avg_b, out = None, None, []
    for n, (p, b) in enumerate(zip(params, buffers)):
        if n == 0 and variant != "no_copy_on_first_update":
            avg_p, avg_b = list(p), list(b)
        else:
            if n == 0:
                avg_p, avg_b = [0 * x for x in p], [0 * x for x in b]
            avg_p = _update(kind, avg_p, p, n, decay, variant)
            avg_b = _update(kind, avg_b, b, n, decay, variant) if use_buffers else list(b)
        out.append((list(avg_p), list(avg_b)))
    return out


def _update(kind, avg, w, n, decay, variant):
    if kind == "ema":
        return [a + (1 - decay) * (x - a) for a, x in zip(avg, w)]
    count = n if variant == "count_off_by_one" and n > 0 else n + 1
    return [a + (x - a) / count for a, x in zip(avg, w)]
