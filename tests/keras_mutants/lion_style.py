"""keras.optimizers.Lion itself (it computes torch's Lion), and a bug in its order of updates."""
import keras
from keras import ops

KerasLion = keras.optimizers.Lion


class MomentumFirst(keras.optimizers.Lion):
    """m is updated with beta_2 before the sign is taken from it with beta_1."""

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        beta_1 = ops.cast(self.beta_1, variable.dtype)
        beta_2 = ops.cast(self.beta_2, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        self.assign(m, ops.add(ops.multiply(m, beta_2), ops.multiply(gradient, 1.0 - beta_2)))
        self.assign_sub(variable, ops.multiply(lr, ops.sign(ops.add(ops.multiply(m, beta_1),
                                                                    ops.multiply(gradient, 1.0 - beta_1)))))
