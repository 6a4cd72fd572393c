"""Adam written in Keras style as torch computes it (eps outside the bias-corrected sqrt), and two bugs.

Two Keras habits are avoided because torch's Adam does not share them: 1 - beta^t is formed in
float64 (torch forms it from Python floats; Keras's Adam forms beta^t at the variable's dtype, and in
float32 1 - 0.999f is 0.00099998713),
and the amsgrad maximum is a where (keras.ops.maximum of two float64 tensors returns float32: Keras
3.15's result_type maps 64-bit types to 32-bit ones, as JAX does by default)."""
import keras
from keras import ops


class TorchFormAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam with torch's epsilon: p -= lr / (1 - beta_1^t) * m / (sqrt(v / (1 - beta_2^t)) + eps)."""

    def _local_step(self):
        return ops.cast(self.iterations + 1, "float64")

    def _denominator(self, v, bias_correction2):
        return ops.add(ops.sqrt(ops.divide(v, bias_correction2)), self.epsilon)

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        local_step = self._local_step()
        bias_correction1 = ops.cast(1 - ops.power(ops.cast(self.beta_1, "float64"), local_step), variable.dtype)
        bias_correction2 = ops.cast(1 - ops.power(ops.cast(self.beta_2, "float64"), local_step), variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[self._get_variable_index(variable)]
            self.assign(v_hat, ops.where(ops.greater(v, v_hat), v, v_hat))
            v = v_hat
        step_size = ops.divide(lr, bias_correction1)
        self.assign_sub(variable, ops.divide(ops.multiply(m, step_size), self._denominator(v, bias_correction2)))


class StepFromZero(TorchFormAdam):
    """The bias corrections at t = iterations: 0 at the first step, which the max(t, 1) guard hides."""

    def _local_step(self):
        return ops.where(self.iterations > 0, ops.cast(self.iterations, "float64"), 1.0)


class EpsInsideSqrt(TorchFormAdam):
    def _denominator(self, v, bias_correction2):
        return ops.sqrt(ops.add(ops.divide(v, bias_correction2), self.epsilon))
