"""Bug mutants written as optax users write optimizers: optax.chain of a custom transform.

Each is a function of optax's own keywords returning a GradientTransformation (the optax
adapter claims it by its return annotation). Each must be caught by the default grid.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class ScaleByAdamState(NamedTuple):  # optax's own name: the adapter reads mu, nu and count
    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates


def _adam_moments(b1, b2, eps, eps_root, bias_corrected):
    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return ScaleByAdamState(jnp.zeros([], jnp.int32), zeros, jax.tree.map(jnp.zeros_like, params))

    def update(updates, state, params=None):
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, updates)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state.nu, updates)
        count = state.count + 1
        # the bug of no_bias_correction: count is kept, but never used to debias
        c1, c2 = (1 - b1 ** count, 1 - b2 ** count) if bias_corrected else (1.0, 1.0)
        out = jax.tree.map(lambda m, v: (m / c1) / (jnp.sqrt(v / c2 + eps_root) + eps), mu, nu)
        return out, ScaleByAdamState(count, mu, nu)

    return optax.GradientTransformation(init, update)


def adam_without_bias_correction(learning_rate, b1=0.9, b2=0.999, eps=1e-8) -> optax.GradientTransformation:
    return optax.chain(_adam_moments(b1, b2, eps, 0.0, bias_corrected=False),
                       optax.scale_by_learning_rate(learning_rate))


def adam_eps_root_for_eps(learning_rate, b1=0.9, b2=0.999, eps=1e-8) -> optax.GradientTransformation:
    """eps passed as eps_root: sqrt(v_hat + eps) where torch has sqrt(v_hat) + eps."""
    return optax.chain(_adam_moments(b1, b2, 0.0, eps, bias_corrected=True),
                       optax.scale_by_learning_rate(learning_rate))


def adamw_decay_masked_wrong(learning_rate, b1=0.9, b2=0.999, eps=1e-8,
                             weight_decay=1e-4) -> optax.GradientTransformation:
    """The decay mask meant for biases, inverted: only the 1-D leaves decay, the matrices do not."""
    def mask(params):
        return jax.tree.map(lambda p: p.ndim == 1, params)

    return optax.chain(_adam_moments(b1, b2, eps, 0.0, bias_corrected=True),
                       optax.add_decayed_weights(weight_decay, mask=mask),
                       optax.scale_by_learning_rate(learning_rate))


def adam_correct(learning_rate, b1=0.9, b2=0.999, eps=1e-8) -> optax.GradientTransformation:
    """The same custom transform without a bug: it must pass, so the mutants' failures are theirs."""
    return optax.chain(_adam_moments(b1, b2, eps, 0.0, bias_corrected=True),
                       optax.scale_by_learning_rate(learning_rate))


# (mutant, reference)
MUTANTS = [(adam_without_bias_correction, "adam"), (adam_eps_root_for_eps, "adam"),
           (adamw_decay_masked_wrong, "adamw")]
