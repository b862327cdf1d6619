"""Layers: named groups of operations whose parameters the network exposes as ``"<layer>.<param>"``."""
from __future__ import annotations

import numpy as np

from scratch.ops import ACTIVATIONS, BiasAdd, Dropout, Operation, ParamOperation, WeightMultiply


class Layer:
    """A named sequence of operations run forward in order and backward in reverse."""

    def __init__(self, name: str, operations: list[Operation]):
        self.name = name
        self.operations = operations

    def forward(self, x: np.ndarray) -> np.ndarray:
        for op in self.operations:
            x = op.forward(x)
        return x

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dL/d(input), or None when ``input_grad`` is False: then the operations before the first
        one with parameters skip their input gradients."""
        for i in reversed(range(len(self.operations))):
            needed = input_grad or any(isinstance(op, ParamOperation) for op in self.operations[:i])
            output_grad = self.operations[i].backward(output_grad, needed)
            if not needed:  # no operation before this one has parameters
                return None
        return output_grad

    def _param_ops(self):
        return [op for op in self.operations if isinstance(op, ParamOperation)]

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Live parameter arrays, keyed by their short name (``"W"``, ``"b"``, ...)."""
        return {key: value for op in self._param_ops() for key, value in op.params.items()}

    @property
    def param_grads(self) -> dict[str, np.ndarray]:
        return {key: value for op in self._param_ops() for key, value in op.param_grads.items()}

    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one sample's output given one sample's input shape (for ``summary``)."""
        x = np.zeros((1, *input_shape))
        training = [op.training for op in self.operations]
        for op in self.operations:
            op.training = False
        try:
            return self.forward(x).shape[1:]
        finally:
            for op, flag in zip(self.operations, training):
                op.training = flag


class Dense(Layer):
    """y = act(x W + b).  x (N, in), W (in, out), b (out,) -> y (N, out)."""

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str = "linear"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
        self.activation = activation
        super().__init__(name, [WeightMultiply(W), BiasAdd(b), ACTIVATIONS[activation]()])


class DropoutLayer(Layer):
    """Inverted dropout as a layer with no parameters (see :class:`scratch.ops.Dropout`)."""

    def __init__(self, name: str, rate: float, rng: np.random.Generator | None = None):
        self.dropout = Dropout(rate, rng)
        super().__init__(name, [self.dropout])
