"""tensor_hp: a hyperparameter given as a 0-dim tensor computes what its float does.

lr is a float64 0-dim tensor (it holds the golden's float exactly), while the
warm-restart scheduler changes it in place every step, as torch's schedulers do with a
tensor lr (fill_). betas are tensors too where the reference declares it
(capabilities.tensor_hyperparameters: torch documents Tensor betas for Adam and AdamW
only). A path that cannot take a tensor raises at
construction: torch documents which (Adam's foreach path without capturable refuses a
tensor lr).

What ships broken here: an lr read once at construction and cached (the scheduler's
changes are lost), an lr tensor divided in place, an lr or beta converted to float32
(seen in a float64 check; in a float32 one that rounding is within the tolerance).
"""
NAME = "tensor_hp"
DESCRIPTION = "lr (and betas) as 0-dim float64 tensors, lr changed in place by a scheduler"


def rows(module):
    from optgold.reference import capabilities

    names = [n for n in capabilities.of(module).tensor_hyperparameters if n in module.DEFAULTS]
    out = [("lr", "base", {}, {"tensors": ["lr"]})] if "lr" in names else []
    if len(names) > 1:
        out.append(("_and_".join(names), "base", {}, {"tensors": names}))
    return out


def adapter_options(case, dtype):
    return {"tensor_hyperparameters": tuple(case.setting["tensors"])}
