"""AdamW (Loshchilov & Hutter, 2019), as torch.optim.AdamW documents it.

AdamW is Adam with decoupled weight decay, p = p * (1 - lr * weight_decay), applied
before the moment updates. Torch scales the decay by lr (the paper's schedule
multiplier eta_t is folded into lr), and defaults weight_decay to 1e-2.
"""
from . import adam
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:AdamW", complex=True, tensor_hyperparameters=("lr", "betas"),
                            stores_decayed_params=True)
DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False)

VARIANTS = {
    "torch": "torch.optim.AdamW",
    "keras_epsilon_hat": adam.VARIANTS["keras_epsilon_hat"],
    "no_bias_correction": adam.VARIANTS["no_bias_correction"],
    "decay_swapped": "coupled L2 decay (Adam with weight_decay) instead of decoupled",
    "eps_inside_sqrt": adam.VARIANTS["eps_inside_sqrt"],
    "maximize_on_lr": adam.VARIANTS["maximize_on_lr"],
    "float32_bias_correction": adam.VARIANTS["float32_bias_correction"],
}

init_state = adam.init_state


def step(param, grad, state, *, variant="torch", **hp):
    adam.step(param, grad, state, decoupled_weight_decay=True, variant=variant, **hp)
