"""The CIFAR cases: which optimizers train the network, with what, for how long.

Realistic settings, each chosen so that the terms a bug would touch matter above
float32 noise: coupled L2 decay in Adam (its second moment must see it), decoupled
decay in AdamW and in AMSGrad (Adam with amsgrad, whose running max must be kept),
a warmup-cosine schedule (torch's SequentialLR of LinearLR and CosineAnnealingLR, down
to 5% of the lr) in one SGD and one Adam run, Nesterov momentum, and
centered RMSprop with momentum (the further adaptive method: a running mean of the
gradient subtracted under the root, and a momentum buffer over the scaled step).
RMSprop's lr is 1e-4: its first steps divide by sqrt(1 - alpha) = 0.1 of the gradient
scale, and at 1e-3 the loss jumps to ~10 before it falls. 300 steps at batch 16 run through 4,800 images; the
reference's plain-Python update of 145,578 parameters is what bounds the count.
"""
from dataclasses import dataclass, field

from optgold import reference

STEPS = 300
BATCH_SIZE = 16
EVAL_SIZE = 1000  # images per accuracy figure (train and test)
INIT_SEED = 1
ORDER_SEED = 2


@dataclass(frozen=True)
class CifarCase:
    reference: str
    id: str
    hp: dict = field(hash=False)
    schedule: dict = field(hash=False)  # {"scheduler": name, "hp": {...}} (reference/schedulers/), or None
    steps: int = STEPS
    batch_size: int = BATCH_SIZE
    eval_size: int = EVAL_SIZE
    init_seed: int = INIT_SEED
    order_seed: int = ORDER_SEED


def _case(ref_name, case_id, overrides, schedule=None, **sizes):
    defaults = reference.get(ref_name).DEFAULTS
    unknown = set(overrides) - set(defaults)
    assert not unknown, f"{ref_name}/{case_id}: not a hyperparameter: {unknown}"
    return CifarCase(ref_name, case_id, {**defaults, **overrides}, schedule, **sizes)


def warmup_cosine(warmup, eta_min, steps=STEPS):
    """torch's SequentialLR of LinearLR then CosineAnnealingLR: the lr of step t is t / warmup
    times the case's lr for the first ``warmup`` steps, then it anneals to ``eta_min`` at the
    last step. LinearLR starts at 1 / warmup and would reach the full lr at its step
    warmup - 1, which is the milestone: CosineAnnealingLR takes over there from the full lr
    (its epoch 0, the lr of step ``warmup``) and reaches epoch T_max at step ``steps``."""
    assert 2 <= warmup < steps, f"warmup {warmup} of {steps} steps"
    return {"scheduler": "sequential_lr", "hp": {
        "schedulers": [{"scheduler": "linear_lr", "hp": {"start_factor": 1 / warmup, "end_factor": 1.0,
                                                        "total_iters": warmup - 1}},
                       {"scheduler": "cosine_annealing_lr", "hp": {"T_max": steps - warmup, "eta_min": eta_min}}],
        "milestones": [warmup - 1]}}

GRID = {
    "sgd": [
        _case("sgd", "momentum_cosine", dict(lr=0.02, momentum=0.9, weight_decay=5e-4), warmup_cosine(20, 1e-3)),
        _case("sgd", "nesterov", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)),
    ],
    "adam": [
        _case("adam", "l2_cosine", dict(lr=1e-3, weight_decay=1e-4), warmup_cosine(20, 5e-5)),
        _case("adam", "amsgrad_decoupled", dict(lr=1e-3, betas=(0.9, 0.99), amsgrad=True, decoupled_weight_decay=True,
                                                weight_decay=0.05)),
    ],
    "adamw": [
        _case("adamw", "decay", dict(lr=1e-3, weight_decay=0.05)),
    ],
    "rmsprop": [
        _case("rmsprop", "centered_momentum", dict(lr=1e-4, momentum=0.9, centered=True, weight_decay=1e-4)),
    ],
}
