"""Run a reference optimizer on a problem: the golden trajectory, and its variants.

``num`` is the number type (float, or mpmath.mpf for the certificate). In replay
mode, ``grads`` gives the gradient of each step instead of the problem.
"""
import math

from . import capabilities
from .contracts import Events
from .problems import size


def split(flat, shapes):
    out, start = [], 0
    for shape in shapes:
        n = math.prod(shape)
        out.append(flat[start:start + n])
        start += n
    return out


def convert(hp, num):
    """Hyperparameters in the number type; flags and counts stay as they are."""
    def one(v):
        return num(v) if isinstance(v, float) else v
    return {k: tuple(map(one, v)) if isinstance(v, tuple) else one(v) for k, v in hp.items()}


def initial_state(optimizer, size, shape, hp, zero=0.0):
    """A tensor's state before its first step (init_state, given the shape where the module takes it)."""
    if capabilities.of(optimizer).uses_shape:
        return optimizer.init_state(size, hp, zero, shape=shape)
    return optimizer.init_state(size, hp, zero)


def group_index(groups, count):
    """Each tensor's param group number (0 where ``groups`` is None)."""
    return [next((g for g, group in enumerate(groups or ()) if k in group["tensors"]), 0) for k in range(count)]


def tensor_hyperparameters(hp, groups, count):
    """Each tensor's hyperparameters: the case's, then its param group's overrides.

    ``groups`` is a list of {"tensors": [tensor numbers], "hp": {overrides}}, as
    torch's param groups; None puts every tensor in one group.
    """
    per_tensor = [dict(hp) for _ in range(count)]
    for group in groups or ():
        for k in group["tensors"]:
            per_tensor[k].update(group["hp"])
    return per_tensor


def scheduled_hyperparameters(schedule, hp, groups, steps):
    """Per step, per param group: the hyperparameters an LR scheduler sets before that step.

    ``schedule`` is {"scheduler": reference scheduler name, "hp": {...}}. A cycled
    momentum becomes SGD's momentum or Adam's beta1, as torch's schedulers set it.
    Rows come from the reference scheduler in float, as torch computes them.
    """
    from . import schedulers

    group_hp = [{**hp, **g["hp"]} for g in groups] if groups else [dict(hp)]
    start = [{"lr": h["lr"], "momentum": h["betas"][0] if "betas" in h else h.get("momentum", 0.0)} for h in group_hp]
    rows = schedulers.schedule(schedule["scheduler"], start, steps, schedule["hp"])
    per_step = []
    for t in range(steps):
        overrides = []
        for k, h in enumerate(group_hp):
            o = {"lr": rows["lr"][t][k]}
            if "momentum" in rows:
                m = rows["momentum"][t][k]
                o.update({"betas": (m, h["betas"][1])} if "betas" in h else {"momentum": m})
            overrides.append(o)
        per_step.append(overrides)
    return per_step


def run(optimizer, problem, hp, steps, num=float, variant="torch", grads=None, start=None, after_step=None,
        groups=None, schedule=None, events=None, store=None, store_params=True):
    """Returns (params per step, grads per step, {state name: values per step}).

    Params has steps + 1 rows (the start first); the others have one row per step,
    taken after the step. State rows are flattened across tensors, like params.
    ``after_step(t, tensors)`` may change the parameters after each step. A module
    declaring closure=True runs through its own ``step(x, closure, state, ...)``.
    ``schedule`` ({"scheduler": name, "hp": {...}}) sets lr (and momentum) each step.
    ``events`` (reference.contracts, their JSON form) say what happens around each step: the
    gradient rows stay the problem's, whatever the events make of them.
    ``store(x) -> x`` rounds each number a tensor keeps after its step (its elementwise state,
    and its parameters where ``store_params``: True, or a store of their own) as a storage
    format does (reference.storage): a low-precision run. A module that stores its decayed
    parameters before the update (capabilities.stores_decayed_params) rounds them there too.
    """
    caps = capabilities.of(optimizer)
    events = Events.of(events)
    if caps.closure:
        if not events.neutral:
            raise ValueError("contract events are defined for optimizers fed one gradient per step, not a closure")
        return _run_closure(optimizer, problem, hp, steps, num, variant, start, after_step)
    tensors = split([num(x) for x in (start or problem.start)], problem.shapes)
    tensor_hp = tensor_hyperparameters(hp, groups, len(tensors))
    tensor_hp_num = [convert(h, num) for h in tensor_hp]
    group_of = group_index(groups, len(tensors))
    scheduled = scheduled_hyperparameters(schedule, hp, groups, steps) if schedule else None
    schedule_row = events.schedule_rows(steps)
    states = [initial_state(optimizer, len(t), shape, h, num(0))
              for t, shape, h in zip(tensors, problem.shapes, tensor_hp)]
    started = [False] * len(tensors)  # torch makes a parameter's state on its first step, from that step's lr
    compared = caps.compared_state or [name for name in states[0]
                                       if name != "step" and all(name in st for st in states)]
    param_rows, grad_rows, state_rows = [[x for t in tensors for x in t]], [], {}
    for t in range(steps):
        flat = param_rows[-1]
        permutation = events.positions_after(t + 1)
        if permutation:  # new position i holds tensor permutation[i] and takes the state saved for position i
            moved, moved_started = list(states), list(started)
            for position, k in enumerate(permutation):
                moved[k], moved_started[k] = states[position], started[position]
            states, started = moved, moved_started
        g = [num(x) for x in grads[t]] if grads is not None else problem.gradient(flat, t)
        for k, (p, gp, st, shape, h) in enumerate(zip(tensors, split(g, problem.shapes), states, problem.shapes,
                                                      tensor_hp_num)):
            if not events.stepped(k, t + 1):
                continue
            if events.zero(k, t + 1):
                gp = [0 * x for x in gp]
            extra = {"shape": shape} if caps.uses_shape else {}
            now = scheduled[schedule_row[t]][group_of[k]] if scheduled else {}
            if not started[k]:  # Rprop's step_size and ASGD's eta start at the lr of this step
                st = states[k] = initial_state(optimizer, len(p), shape, {**tensor_hp[k], **now}, num(0))
                started[k] = True
            param_store = (store if store_params is True else store_params) if store else None
            if param_store and caps.stores_decayed_params:
                extra["store"] = param_store
            optimizer.step(p, gp, st, variant=variant, **extra, **{**h, **convert(now, num)})
            if store:
                _store(p, st, store, param_store)
        if after_step:
            after_step(t, tensors)
        param_rows.append([x for p in tensors for x in p])
        grad_rows.append(g)
        for name in compared:  # "step" is compared as a count; state every tensor has, flattened
            state_rows.setdefault(name, []).append([x for st, p in zip(states, tensors)
                                                    for x in state_values(st[name], len(p), num(0))])
    assert len(param_rows[0]) == size(problem.shapes)
    return param_rows, grad_rows, state_rows


def _store(param, state, store, param_store):
    """Rounds a tensor's elementwise state, and its parameters with ``param_store`` (if any), in
    place; scalar state (a step count, NAdam's mu_product) is kept in the default dtype, not the
    parameter's, and is left alone."""
    if param_store:
        param[:] = [param_store(x) for x in param]
    for value in state.values():
        if isinstance(value, list) and value and not isinstance(value[0], int):
            value[:] = [store(x) for x in value]


def _run_closure(optimizer, problem, hp, steps, num, variant, start, after_step=None):
    """An optimizer that calls closure(x) -> (loss, gradient) itself, on all parameters
    as one flat vector (LBFGS). The gradient row of a step is its first evaluation."""
    hp_num = convert(hp, num)
    x = [num(v) for v in (start or problem.start)]
    state = optimizer.init_state(len(x), hp, num(0))
    param_rows, grad_rows, state_rows = [list(x)], [], {}
    for t in range(steps):
        evaluations = []

        def closure(point, t=t):
            evaluations.append(problem.gradient(point, t))
            return problem.value(point), evaluations[-1]

        optimizer.step(x, closure, state, variant=variant, **hp_num)
        if after_step:
            tensors = split(x, problem.shapes)
            after_step(t, tensors)
            x[:] = [v for tensor in tensors for v in tensor]
        param_rows.append(list(x))
        grad_rows.append(evaluations[0] if evaluations else [num(0)] * len(x))
        for name in capabilities.of(optimizer).compared_state or ():
            state_rows.setdefault(name, []).append(state_values(state[name]))
    return param_rows, grad_rows, state_rows


def state_values(value, size=None, zero=0.0):
    """A state entry as a flat list: a number becomes one element, a list stays as it is, and a
    buffer not made yet (None: torch makes SGD's momentum_buffer on a tensor's first step) reads
    as zeros, the size of its tensor."""
    if value is None and size is not None:
        return [zero] * size
    return value if isinstance(value, list) else [value]
