"""Judge a CIFAR replay step by step: parameters, torch-named state and step counts against the golden's.

The run is never held whole (145,578 parameters a step), so the judge keeps only what
the report needs: the first divergence, the largest error, the largest fraction of the bound.
"""
from suite import compare
from suite.cifar import tolerance


def describe(divergence, names):
    index = ", ".join(map(str, divergence.index))
    return (f"{divergence.quantity} diverge at step {divergence.step} in {names[divergence.tensor]} "
            f"(tensor {divergence.tensor}) [{index}]: observed {divergence.observed:.17g}, expected "
            f"{divergence.expected:.17g}, tolerance {divergence.tolerance:.3g}")


class Judge:
    """Each step against the golden: the first divergence, the largest error, the largest fraction of the bound."""

    def __init__(self, shapes, golden_lanes, dtype):
        self.shapes, self.golden, self.first, self.max_error, self.used = shapes, golden_lanes, None, 0.0, 0.0
        self.param_bound = tolerance.ParamBound(golden_lanes.flat_params(), dtype)
        self.state_bounds = {name: tolerance.StateBound(dtype) for name in golden_lanes.state_names()}

    def see_step(self, t, observed, adapter):
        expected = self.golden.flat_params()
        self.see("params", t, observed, expected, self.param_bound.advance(expected))
        exposed = adapter.flat_state(self.state_bounds)
        for name, bound in self.state_bounds.items():
            golden_state = self.golden.flat_state(name)
            if golden_state is None:
                continue
            state_bound = bound.advance(golden_state)  # accumulates whether or not the implementation exposes it
            if name in exposed and exposed[name].shape == golden_state.shape:
                self.see(name, t, exposed[name], golden_state, state_bound)
        for k, count in enumerate(adapter.step_counts()):
            if count is not None and count != t and self.first is None:
                self.first = compare.Divergence("state step", t, k, (), float(count), float(t), 0.0)

    def see(self, quantity, step, observed, expected, bound):
        rows = observed[None], expected[None], bound[None]
        self.used = max(self.used, compare.tolerance_used(*rows))
        if quantity == "params":
            self.max_error = max(self.max_error, compare.max_abs_error(*rows[:2]))
        found = compare.first_divergence(quantity, *rows, self.shapes, first_step=step)
        if found and self.first is None:
            self.first = found
