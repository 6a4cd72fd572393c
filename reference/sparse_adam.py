"""SparseAdam, as torch.optim.SparseAdam computes it: Adam masked to the gradient's present entries.

    g_t   = -grad if maximize else grad            (a sparse gradient, coalesced: repeated indices summed)
    for each present entry i (g_t[i] materialized; here: grad[i] != 0), and no other:
        m_t[i] = m_{t-1}[i] + (1 - beta1) * (g_t[i] - m_{t-1}[i])
        v_t[i] = v_{t-1}[i] + (1 - beta2) * (g_t[i]^2 - v_{t-1}[i])
        p_t[i] = p[i] - lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m_t[i] / (sqrt(v_t[i]) + eps)
    absent entries keep their p, m and v unchanged.

t counts the steps this tensor got a gradient at all (every step here), not the steps an
entry was present: an entry seen for the first time at t = 50 is bias-corrected as if
its moments had been averaging for 50 steps.

Torch differs from torch.optim.Adam (and the paper's Algorithm 1) in where eps goes:
SparseAdam adds eps to the uncorrected sqrt(v_t) and folds sqrt(1 - beta2^t) into the
step size (the paper's section 2 "epsilon hat" form); Adam's placement,
sqrt(v_t / (1 - beta2^t)) + eps, is the eps_on_corrected variant. There is no weight decay.

The suite hands implementations a sparse COO gradient of the nonzeros, uncoalesced (some
indices repeated, values split in halves), so an implementation that skips coalesce()
is caught. The reference sees the dense gradient, whose zeros are exactly the absent entries.
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:SparseAdam", sparse_gradients=True)  # torch refuses dense gradients
DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)

VARIANTS = {
    "torch": "torch.optim.SparseAdam",
    "eps_on_corrected": "torch.optim.Adam's eps placement: m_hat / (sqrt(v_t / (1 - beta2^t)) + eps)",
    "dense": "the densified gradient (SparseAdam's eps placement): absent entries count as zero, so their "
    "moments decay and their params still move",
    "no_bias_correction": "neither moment bias-corrected: step size lr",
}


def init_state(size, hp, zero=0.0):
    return {"step": 0, "exp_avg": [zero] * size, "exp_avg_sq": [zero] * size}


def step(param, grad, state, *, lr, betas, eps, maximize, variant="torch"):
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    if variant == "no_bias_correction":
        bias_correction1 = bias_correction2 = 1
    step_size = lr * sqrt(bias_correction2) / bias_correction1
    m, v = state["exp_avg"], state["exp_avg_sq"]
    for i in range(len(param)):
        if not (grad[i] > 0 or grad[i] < 0) and variant != "dense":
            continue  # absent from the sparse gradient: nothing changes
        g = -grad[i] if maximize else grad[i]
        m[i] = m[i] + (1 - beta1) * (g - m[i])
        v[i] = v[i] + (1 - beta2) * (g * g - v[i])
        if variant == "eps_on_corrected":
            param[i] = param[i] - lr / bias_correction1 * (m[i] / (sqrt(v[i]) / sqrt(bias_correction2) + eps))
        else:
            param[i] = param[i] - step_size * (m[i] / (sqrt(v[i]) + eps))
