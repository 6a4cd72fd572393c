"""LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning: Training BERT in
76 minutes", Algorithm 2), per tensor:

    m_t   = beta1 * m_{t-1} + (1 - beta1) * g_t
    v_t   = beta2 * v_{t-1} + (1 - beta2) * g_t^2
    r_t   = (m_t / (1 - beta1^t)) / (sqrt(v_t / (1 - beta2^t)) + eps)      (Adam's ratio)
    u_t   = r_t + weight_decay * p_{t-1}
    ratio = phi(||p_{t-1}||) / ||u_t||                                    (L2 norms over the tensor)
    p_t   = p_{t-1} - lr * ratio * u_t

phi is the identity (the paper's experiments, and every common implementation), and
ratio = 1 where ||p_{t-1}|| = 0 or ||u_t|| = 0 (a freshly zeroed tensor, or no update):
the TensorFlow/apex/timm convention where(w_norm > 0, where(u_norm > 0, w_norm /
u_norm, 1), 1). The paper's general phi(z) = min(max(z, gamma_l), gamma_u) clamps the
parameter norm; no default gamma is given, and it is left out.

torch.optim has no LAMB (torch=None); tests/mutants/lamb_mutants.py:Lamb is the
checked implementation. Common variants, named here for diagnosis:
- no bias correction: the paper's v3 and cybertronai/pytorch-lamb (``no_bias_correction``);
- trust ratio clipped to at most 1: timm's trust_clip=True (``trust_clip``);
- phi(z) = min(z, 10): cybertronai/pytorch-lamb's clamp of the weight norm (``phi_clamp_10``);
- trust ratio only when weight_decay != 0: apex FusedLAMB (use_nvlamb=False) and timm
  (always_adapt=False); with weight_decay = 0 they are plain Adam (``adapt_only_with_decay``);
- apex and timm also clip the gradients by their global norm (max_grad_norm=1.0)
  before anything else; that couples tensors and is not part of this reference.
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch=None)  # torch.optim has no LAMB
DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0)

VARIANTS = {
    "torch": "LAMB, Algorithm 2 of the paper, phi = identity, ratio 1 at a zero norm",
    "no_bias_correction": "neither moment bias-corrected (paper v3, cybertronai/pytorch-lamb)",
    "trust_clip": "trust ratio clipped to at most 1 (timm trust_clip=True)",
    "phi_clamp_10": "phi(||p||) = min(||p||, 10) (cybertronai/pytorch-lamb)",
    "adapt_only_with_decay": "trust ratio applied only when weight_decay != 0 (apex use_nvlamb=False, timm)",
    "decay_outside_ratio": "known bug: weight decay applied outside the trust ratio, p -= lr * wd * p, "
    "and the ratio taken over r_t alone",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "exp_avg": [zero] * size, "exp_avg_sq": [zero] * size}


def _norm(values):
    return sqrt(sum(x * x for x in values))


def step(param, grad, state, *, lr, betas, eps, weight_decay, variant="torch"):
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    if variant == "no_bias_correction":
        bias_correction1 = bias_correction2 = 1
    m, v = state["exp_avg"], state["exp_avg_sq"]
    decay_in_update = variant != "decay_outside_ratio"
    update = []
    for i in range(len(param)):
        g = grad[i]
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g * g
        r = (m[i] / bias_correction1) / (sqrt(v[i] / bias_correction2) + eps)
        update.append(r + weight_decay * param[i] if decay_in_update else r)
    p_norm, u_norm = _norm(param), _norm(update)
    if variant == "phi_clamp_10":
        p_norm = min(p_norm, 10)
    ratio = p_norm / u_norm if p_norm > 0 and u_norm > 0 else 1
    if variant == "trust_clip":
        ratio = min(ratio, 1)
    if variant == "adapt_only_with_decay" and not weight_decay:
        ratio = 1
    for i in range(len(param)):
        if not decay_in_update:
            param[i] = param[i] - lr * weight_decay * param[i]
        param[i] = param[i] - lr * ratio * update[i]
