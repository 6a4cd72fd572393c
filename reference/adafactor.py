"""Adafactor (Shazeer & Stern, 2018), as torch.optim.Adafactor documents and computes it.

    eps1, eps2 = eps                                  (eps1 None: the param dtype's machine epsilon)
    g_t     = -grad if maximize else grad
    w_t     = t^beta2_decay                           (= 1 - beta2_hat_t, the averaging weight)
    rho_t   = min(lr, 1 / sqrt(t))
    alpha_t = max(eps2, RMS(p_{t-1})) * rho_t         (RMS before the weight decay)
    p       = p_{t-1} * (1 - lr * weight_decay)
    if the tensor has 2 or more dims (factored over its last two, R rows x C columns;
    leading dims index independent matrices):
        R_t  = R_{t-1} + w_t * (mean_c(g_t^2) - R_{t-1})          state row_var, one per row
        C_t  = C_{t-1} + w_t * (mean_r(g_t^2) - C_{t-1})          state col_var, one per column
        V_t  = R_t C_t / max(mean_r(R_t), eps1)
    else:
        V_t  = V_{t-1} + w_t * (g_t^2 - V_{t-1})                  state variance
    U_t     = g_t / sqrt(max(V_t, eps1^2))
    p_t     = p - alpha_t / max(1, RMS(U_t) / d) * U_t

Torch differs from the paper in three places, each named in its docstring: rho_t is
capped by lr instead of the constant 1e-2 (the rho_constant variant); lr also scales a
decoupled weight decay, which the paper does not have; and eps1 clamps the variance
estimate and the row mean instead of being added to g^2 before averaging (the paper_eps1
variant). Torch averages with means where the paper sums; the two are equal.

eps1 = None takes the machine epsilon of the parameter's dtype; the reference computes in
float64 and takes float64's (2^-52). A float32 implementation uses 2^-23 instead, which
matters only where V_t < 2^-46 or a row mean < 2^-23; the grid keeps gradients far above
that wherever eps1 is left None.
"""
from .arith import sqrt
from .capabilities import Capabilities

CAPABILITIES = Capabilities(torch="torch.optim:Adafactor", uses_shape=True, stores_decayed_params=True)  # the factored path needs the shape
DEFAULTS = dict(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, maximize=False)
FLOAT64_EPS = 2.0 ** -52  # torch.finfo(torch.float64).eps, eps1's default here

VARIANTS = {
    "torch": "torch.optim.Adafactor",
    "paper_eps1": "Shazeer & Stern's eps1: added to g^2 before averaging (row, column and vector), "
    "no clamps on the row mean or the variance estimate",
    "rho_constant": "the paper's relative step size: rho_t = min(1e-2, 1 / sqrt(t)), whatever lr is",
    "no_update_clipping": "U_t used unclipped (d ignored)",
    "alpha_after_decay": "known bug: RMS(p) measured after the weight decay has shrunk p",
}


def _factors(shape):
    """(matrices, rows, columns) of a tensor factored over its last two dims, or None for a vector."""
    if len(shape) < 2:
        return None
    matrices = 1
    for n in shape[:-2]:
        matrices *= n
    return matrices, shape[-2], shape[-1]


def init_state(size, hp, zero=0.0, *, shape):
    # As torch: row_var and col_var (one number per row, per column) for a factored tensor,
    # variance for a vector. A state is compared where every tensor has it.
    factors = _factors(shape)
    if factors is None:
        return {"step": 0, "variance": [zero] * size}
    matrices, rows, cols = factors
    return {"step": 0, "row_var": [zero] * (matrices * rows), "col_var": [zero] * (matrices * cols)}


def _lerp(start, end, weight):
    """start + weight * (end - start), in the form torch.lerp takes: from the end when weight >= 0.5,
    which matters at weight 1 (every first step, and beta2_decay = 0), where it gives end exactly."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _rms(values):
    return sqrt(sum(x * x for x in values)) / sqrt(0 * values[0] + len(values))


def step(param, grad, state, *, lr, beta2_decay, eps, d, weight_decay, maximize, shape, variant="torch",
         store=None):
    eps1, eps2 = eps
    if eps1 is None:
        eps1 = FLOAT64_EPS
    state["step"] += 1
    t = state["step"]
    n = len(param)
    if n == 0:  # an empty tensor: its step counts, and there is nothing to update (torch's norms would be 0/0)
        return
    g = [-x for x in grad] if maximize else list(grad)
    w = (0 * lr + t) ** beta2_decay
    rho = min(1e-2 if variant == "rho_constant" else lr, 1 / sqrt(0 * lr + t))
    alpha = max(eps2, _rms(param)) * rho
    if weight_decay != 0:
        for i in range(n):
            param[i] = param[i] * (1 - lr * weight_decay)
            if store:  # a low-precision run keeps the decayed parameter (trajectory.run)
                param[i] = store(param[i])
    if variant == "alpha_after_decay":
        alpha = max(eps2, _rms(param)) * rho
    paper = variant == "paper_eps1"
    add = eps1 if paper else 0  # the paper's eps1 inside the averages

    factors = _factors(shape)
    if factors is None:
        v = state["variance"]
        for i in range(n):
            v[i] = _lerp(v[i], g[i] * g[i] + add, w)
        estimate = list(v)
    else:
        matrices, rows, cols = factors
        row_var, col_var = state["row_var"], state["col_var"]
        estimate = [0 * x for x in param]
        for b in range(matrices):
            base = b * rows * cols
            for r in range(rows):
                mean = sum(g[base + r * cols + c] ** 2 for c in range(cols)) / cols + add
                k = b * rows + r
                row_var[k] = _lerp(row_var[k], mean, w)
            for c in range(cols):
                mean = sum(g[base + r * cols + c] ** 2 for r in range(rows)) / rows + add
                k = b * cols + c
                col_var[k] = _lerp(col_var[k], mean, w)
            row_mean = sum(row_var[b * rows:(b + 1) * rows]) / rows
            if not paper:
                row_mean = max(row_mean, eps1)
            for r in range(rows):
                for c in range(cols):
                    estimate[base + r * cols + c] = row_var[b * rows + r] * col_var[b * cols + c] / row_mean

    if paper:
        update = [g[i] / sqrt(estimate[i]) for i in range(n)]
    else:
        update = [1 / sqrt(max(estimate[i], eps1 * eps1)) * g[i] for i in range(n)]
    clip = 1 if variant == "no_update_clipping" else max(1, _rms(update) / d)
    scale = -alpha / clip
    for i in range(n):
        param[i] = param[i] + scale * update[i]
