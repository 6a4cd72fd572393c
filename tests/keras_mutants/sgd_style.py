"""SGD with torch's momentum written from scratch as a keras.optimizers.Optimizer, and a bug in it."""
import keras
from keras import ops


class TorchFormSGD(keras.optimizers.Optimizer):
    """buf = momentum * buf + g;  p -= lr * (g + momentum * buf if nesterov else buf)."""

    torch_state_names = {"buffers": "momentum_buffer"}  # how optgold's keras adapter reads its state

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="torch_form_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum, self.nesterov = momentum, nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.buffers = self.add_optimizer_variables(variables, "momentum_buffer")

    def _buffer(self, buf, gradient):
        return ops.add(ops.multiply(buf, self.momentum), gradient)

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        if not self.momentum:
            self.assign_sub(variable, ops.multiply(lr, gradient))
            return
        buf = self.buffers[self._get_variable_index(variable)]
        self.assign(buf, self._buffer(buf, gradient))
        direction = ops.add(gradient, ops.multiply(buf, self.momentum)) if self.nesterov else buf
        self.assign_sub(variable, ops.multiply(lr, direction))


class EmaMomentum(TorchFormSGD):
    def _buffer(self, buf, gradient):
        return ops.add(ops.multiply(buf, self.momentum), ops.multiply(gradient, 1 - self.momentum))
