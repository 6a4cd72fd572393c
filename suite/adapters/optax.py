"""The optax adapter: a callable returning an optax GradientTransformation (``optax:adam``), driven
with init, update and apply_updates (optgold.adapters' protocol).

Hyperparameters arrive under torch's names and are renamed to the transformation's (lr ->
learning_rate, betas -> b1 and b2, alpha -> decay, ...). ``torch_keywords`` tells the kind which
torch names a factory can express, so that one it cannot (amsgrad, maximize, dampening) is
skipped with the suite's own reason when the case needs it, and dropped when the case holds
torch's default (the check then judges optax's own behaviour against that default). ``--impl-arg``
keywords go to the factory under optax's own names (eps_root=1e-8, eps_in_sqrt=False).

Each torch param group is one transformation over its tensors (what optax.multi_transform does),
under optax.inject_hyperparams, so a schedule sets learning_rate in the state between steps.
The schedule is torch's own scheduler, stepped on a stand-in torch optimizer that holds the
groups' hyperparameters, and read after every step: the lr of step t is what torch's scheduler
gives the optimizer for step t, the goldens' convention. The update and apply_updates run under
jax.jit, as a training loop runs them; float64 runs enable jax_enable_x64, float32 runs disable it.

JAX is imported in the worker process only: the parent imports optax to load IMPL, which does not
start JAX's backend (its threads), so the fork that makes the worker stays safe.

State reads back under torch's names (ScaleByAdamState mu/nu/count -> exp_avg/exp_avg_sq/step,
TraceState -> momentum_buffer, ...), so it is judged too. What optax has no counterpart of (a
missing gradient, GradScaler, torch tensors as hyperparameters, a group added later, complex
views) raises NotImplementedError, and those contract cases skip with the reason.
"""
import inspect

import numpy as np

# torch name -> the factory keyword(s) that express it, where the factory takes them
RENAMED = {"lr": ("learning_rate",), "betas": ("b1", "b2"), "alpha": ("decay",), "beta2_decay": ("decay_rate",),
           "d": ("clipping_threshold",)}
SAME = ("eps", "momentum", "nesterov", "centered", "initial_accumulator_value", "rho")
DECAY = ("weight_decay", "weight_decay_rate")
# how known optax factories apply weight_decay: decoupled (-lr * wd * p, as AdamW) or coupled (added to the gradient)
DECAY_FORM = {"adamw": "decoupled", "lion": "decoupled", "adadelta": "coupled", "adafactor": "decoupled"}

# optax state field -> the torch state names it is, in the order asked for (Adamax's nu is exp_inf)
STATE_NAMES = {
    "ScaleByAdamState": {"mu": ("exp_avg",), "nu": ("exp_avg_sq", "exp_inf")},
    "ScaleByRAdamState": {"mu": ("exp_avg",), "nu": ("exp_avg_sq",)},
    "ScaleByLionState": {"mu": ("exp_avg",)},
    "ScaleByAmsgradState": {"mu": ("exp_avg",), "nu": ("exp_avg_sq",), "nu_max": ("max_exp_avg_sq",)},
    "TraceState": {"trace": ("momentum_buffer",)},
    "ScaleByRmsState": {"nu": ("square_avg",)},
    "ScaleByRStdDevState": {"mu": ("grad_avg",), "nu": ("square_avg",)},
    "ScaleByRssState": {"sum_of_squares": ("sum",)},
    "ScaleByAdaDeltaState": {"e_g": ("square_avg",), "e_x": ("acc_delta",)},
}
COUNTED = ("ScaleByAdamState", "ScaleByRAdamState", "ScaleByAmsgradState", "ScaleByLionState")


def claims(factory):
    """An optax function, or one annotated ``-> optax.GradientTransformation`` (a user's own)."""
    if claims_by_module(factory):
        return True
    try:
        returned = inspect.signature(factory).return_annotation
    except (TypeError, ValueError):
        return False
    name = returned if isinstance(returned, str) else getattr(returned, "__name__", "")
    return "GradientTransformation" in name


def factory_keywords(factory):
    try:
        return {p.name for p in inspect.signature(factory).parameters.values()
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    except (TypeError, ValueError):
        return set()


def torch_keywords(factory):
    """A callable whose signature holds the torch names ``factory`` can express, for
    optgold.hyperparameters.construction_kwargs to read."""
    takes = factory_keywords(factory)
    names = [t for t, optax_names in RENAMED.items() if set(optax_names) <= takes]
    names += [t for t in SAME if t in takes]
    if takes & set(DECAY):
        names += ["weight_decay", "decoupled_weight_decay"]

    def expressible(params, **kwargs):
        pass

    expressible.__signature__ = inspect.Signature(
        [inspect.Parameter("params", inspect.Parameter.POSITIONAL_ONLY)]
        + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names])
    return expressible


def optax_kwargs(factory, hp):
    """``hp`` (torch's names, and --impl-arg extras under optax's) as the factory's keywords;
    NotImplementedError where a value has no optax form."""
    takes, out = factory_keywords(factory), {}
    for key, value in hp.items():
        if key in RENAMED:
            out.update(zip(RENAMED[key], value if len(RENAMED[key]) > 1 else (value,)))
            if key == "beta2_decay":
                out["decay_rate"] = -value  # torch's beta2_t = 1 - t**beta2_decay; optax's 1 - t**-decay_rate
        elif key == "momentum":
            out["momentum"] = value or None  # optax: None is no momentum (0.0 would keep a trace equal to g)
        elif key == "eps" and isinstance(value, tuple):  # Adafactor's (eps1, eps2): optax's eps is one number
            if tuple(value) != (None, 1e-3):
                raise NotImplementedError(f"eps={value}: torch Adafactor's (eps1, eps2) has no optax form; only "
                                          "torch's default (None, 0.001) runs (optax's floor on the RMS is 1e-3)")
        elif key == "weight_decay":
            decay = next(n for n in DECAY if n in takes)
            out[decay] = value
        elif key == "decoupled_weight_decay":
            form = DECAY_FORM.get(getattr(factory, "__name__", "")) if claims_by_module(factory) else None
            wanted = "decoupled" if value else "coupled"
            if form and form != wanted and hp.get("weight_decay"):
                raise NotImplementedError(f"optax.{factory.__name__} applies weight decay {form}; the case asks "
                                          f"torch's {wanted} form (decoupled_weight_decay={value})")
        else:
            out[key] = value
    return out


def claims_by_module(factory):
    return getattr(factory, "__module__", "").split(".")[0] == "optax"


class OptaxAdapter:
    """An optax GradientTransformation per param group, stepped on flat float64 gradients."""

    def __init__(self, factory, hyperparameters, start, shapes, dtype, device, sparse=False, state_on_first=False,
                 groups=(), schedule=None, held_back=(), tensor_dtypes=None, complex_view=False,
                 tensor_hyperparameters=(), amp=None):
        import jax

        for refused, why in ((sparse, "sparse gradients are torch's"), (state_on_first, "a closure step"),
                             (held_back, "a param group added later: an optax transformation keeps the tree it was "
                                         "initialised on"),
                             (complex_view, "complex parameters: optax's complex Adam takes |g|^2, not torch's "
                                            "view_as_real arithmetic, and is not mapped here"),
                             (tensor_hyperparameters, "torch tensors as hyperparameters (optax's injected "
                                                      "learning_rate is an array in every case)"),
                             (amp, "torch.amp.GradScaler")):
            if refused:
                raise NotImplementedError(f"the optax adapter cannot run {why}")
        if str(device) != "cpu":
            raise NotImplementedError(f"the optax adapter runs on JAX's CPU backend, not on {device}")
        self.dtypes = list(tensor_dtypes or [dtype] * len(shapes))
        # float32 runs keep x64 off, as JAX's float32 users do: with it on, the injected lr would be float64
        jax.config.update("jax_enable_x64", "float64" in self.dtypes)
        self.factory, self.hp, self.schedule = factory, hyperparameters, schedule
        self.shapes = [tuple(s) for s in shapes]
        offsets = np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in self.shapes])]).astype(int)
        self.slices = [slice(a, b) for a, b in zip(offsets[:-1], offsets[1:])]
        self.params = [self._array(np.asarray(start)[s].reshape(shape), d)
                       for s, shape, d in zip(self.slices, self.shapes, self.dtypes)]
        # torch param groups: the case's, or one holding every tensor
        expressible = set(inspect.signature(torch_keywords(factory)).parameters)
        self.groups = [(list(g["tensors"]), {k: v for k, v in g["hp"].items() if k in expressible}) for g in groups] \
            or [(list(range(len(shapes))), {})]
        self.scheduler = self._torch_scheduler() if schedule else None
        self._build()

    def _array(self, values, dtype):
        import jax.numpy as jnp

        return jnp.asarray(values, dtype=jnp.dtype(dtype))

    def _build(self, order=None):
        """One jitted transformation per group, initialised on its tensors."""
        import jax
        import optax

        self.order = list(order) if order is not None else list(range(len(self.params)))
        self.transforms, self.states, self._steps = [], [], []
        for tensors, overrides in self.groups:
            kwargs = optax_kwargs(self.factory, {**self.hp, **overrides})
            injected = ("learning_rate",) + ((tuple(k for k in ("momentum", "b1") if kwargs.get(k) is not None))
                                             if self.schedule else ())
            # only what a schedule sets is injected: any other numeric keyword would become a traced array
            static = tuple((factory_keywords(self.factory) | set(kwargs)) - set(injected))
            transform = optax.inject_hyperparams(self.factory, static_args=static)(**kwargs)
            positions = [k for k in self.order if k in tensors]
            self.transforms.append((positions, transform))
            self.states.append(transform.init([self.params[k] for k in positions]))

            def step(params, state, grads, transform=transform):
                updates, state = transform.update(grads, state, params)
                return optax.apply_updates(params, updates), state

            self._steps.append(jax.jit(step))

    def _torch_scheduler(self):
        """torch's scheduler of the case, on a stand-in torch optimizer holding each group's lr (and the
        momentum or beta1 it may cycle): it is what sets the lr of every step."""
        import torch

        from optgold.adapters.eager import make_scheduler

        groups = []
        for tensors, overrides in self.groups:
            hp = {**self.hp, **overrides}
            group = {"params": [torch.zeros(1)], "lr": hp["lr"]}
            if "betas" in hp:
                group["betas"] = hp["betas"]
            elif hp.get("momentum"):
                group["momentum"] = hp["momentum"]
            groups.append(group)
        stand_in = torch.optim.Adam(groups) if "betas" in groups[0] else torch.optim.SGD(groups)
        return make_scheduler(stand_in, self.schedule)

    def step(self, flat_grad, absent=(), overflow=None):
        import jax.numpy as jnp

        if absent:
            raise NotImplementedError("optax updates every leaf of the tree: a gradient cannot be absent")
        if overflow:
            raise NotImplementedError("an overflowed step is torch.amp.GradScaler's")
        grad = np.asarray(flat_grad, dtype=np.float64)
        for g, (positions, _) in enumerate(self.transforms):
            params = [self.params[k] for k in positions]
            grads = [jnp.asarray(grad[self.slices[k]].reshape(self.shapes[k]), dtype=self.params[k].dtype)
                     for k in positions]
            params, self.states[g] = self._steps[g](params, self.states[g], grads)
            for k, p in zip(positions, params):
                self.params[k] = p
        if self.scheduler is not None:
            self.scheduler.step()
            for g, group in enumerate(self.scheduler.optimizer.param_groups):
                held = self.states[g].hyperparams
                self._inject(held, "learning_rate", group["lr"])
                self._inject(held, "momentum", group.get("momentum"))
                self._inject(held, "b1", group.get("betas", (None,))[0])

    @staticmethod
    def _inject(held, name, value):
        import jax.numpy as jnp

        if value is not None and name in held:
            held[name] = jnp.asarray(value, dtype=held[name].dtype)

    def step_closure(self, evaluate):
        raise NotImplementedError("optax transformations take a gradient, not a closure to re-evaluate")

    def set_lr(self, lr):
        for state in self.states:
            self._inject(state.hyperparams, "learning_rate", lr)

    def hyperparameter_groups(self):
        """The lr each group's state holds, as built."""
        if getattr(self, "_built", None) is None:
            self._built = [{"lr": np.asarray(s.hyperparams["learning_rate"])} for s in self.states]
        return self._built

    def restart(self, order=None):
        """As a job restored from a checkpoint: every state leaf through numpy (as a checkpoint file
        holds it), a fresh transformation from the same factory initialised on fresh arrays (in
        ``order`` where given), and the saved leaves put back by position, as torch does."""
        import jax

        saved = [[np.array(leaf) for leaf in jax.tree_util.tree_leaves(s)] for s in self.states]
        self.params = [self._array(np.array(p), p.dtype) for p in self.params]
        self._build(order)
        restored = []
        for leaves, state in zip(saved, self.states):
            fresh, tree = jax.tree_util.tree_flatten(state)
            restored.append(jax.tree_util.tree_unflatten(tree, [self._array(v, f.dtype) for v, f in
                                                                 zip(leaves, fresh)]))
        self.states = restored

    def add_group(self, tensor):
        raise NotImplementedError("an optax transformation keeps the tree it was initialised on: no group joins")

    def flat_params(self):
        return np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1) for p in self.params])

    def _named_states(self):
        """(positions, state NamedTuple) for every known optax state in every group."""
        found = []

        def walk(node, positions):
            kind = type(node).__name__
            if kind in STATE_NAMES or kind in COUNTED:
                found.append((positions, node))
            if hasattr(node, "inner_state"):
                walk(node.inner_state, positions)
            elif isinstance(node, (tuple, list)) and not hasattr(node, "_fields"):
                for child in node:
                    walk(child, positions)

        for (positions, _), state in zip(self.transforms, self.states):
            walk(state, positions)
        return found

    def flat_state(self, names):
        found = {}
        per_tensor = {}
        for positions, state in self._named_states():
            for field, torch_names in STATE_NAMES.get(type(state).__name__, {}).items():
                name = next((n for n in torch_names if n in names), None)
                if name is None:
                    continue
                for k, value in zip(positions, getattr(state, field)):
                    per_tensor.setdefault(name, {})[k] = np.asarray(value, dtype=np.float64).reshape(-1).copy()
        for name, values in per_tensor.items():
            found[name] = [values.get(k) for k in range(len(self.params))]
        if "step" in names:
            counts = self.step_counts()
            if any(c is not None for c in counts):
                found["step"] = [None if c is None else np.array([c]) for c in counts]
        return found

    def quantized_state(self, names):
        return {}

    def step_counts(self):
        counts = [None] * len(self.params)
        for positions, state in self._named_states():
            if type(state).__name__ in COUNTED:
                for k in positions:
                    counts[k] = float(state.count)
        return counts


OptaxAdapter.claims = staticmethod(claims)
OptaxAdapter.torch_keywords = staticmethod(torch_keywords)
