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

    @property
    def state(self) -> dict[str, np.ndarray]:
        """Live non-trainable state arrays (BatchNorm's moving statistics), keyed by their short name."""
        return {key: value for op in self.operations for key, value in getattr(op, "state", {}).items()}

    @property
    def variables(self) -> dict[str, np.ndarray]:
        """Parameters then state: the layer's canonical entries in their layout order."""
        return {**self.params, **self.state}

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


# ---------------------------------------------------------------- BatchNorm, pooling, residual


class BatchNorm(ParamOperation):
    """Batch normalisation over the last (channel) axis; x (N, …, C) → y of x's shape; γ, β (C,) trained,
    moving mean μ̄ and variance σ̄² (C,) state.  Statistics over every other axis (m = N·… values per channel).

    Training (``training = True``), batch statistics:
        μ = mean(x),  σ² = mean((x − μ)²)  (biased, ÷ m),  x̂ = (x − μ) / √(σ² + ε),  y = γ x̂ + β
        μ̄ ← ρ μ̄ + (1 − ρ) μ,  σ̄² ← ρ σ̄² + (1 − ρ) σ²     (Keras's convention: ρ = momentum 0.9 = 1 − torch's 0.1)
      backward, from dy:  dγ = Σ dy·x̂,  dβ = Σ dy,  with g = γ dy:
        dx = (g − mean(g) − x̂ · mean(g · x̂)) / √(σ² + ε)
    Inference (``training = False``), the moving statistics, an affine map:
        y = γ (x − μ̄) / √(σ̄² + ε) + β,   dx = dy · γ / √(σ̄² + ε)
    """

    def __init__(self, gamma, beta, moving_mean, moving_variance, momentum: float = 0.9, epsilon: float = 1e-5):
        super().__init__(gamma=gamma, beta=beta)
        self.state = {"moving_mean": moving_mean, "moving_variance": moving_variance}
        self.momentum, self.epsilon = momentum, epsilon

    def _output(self):
        x, gamma, beta = self.input, self.params["gamma"], self.params["beta"]
        axes = tuple(range(x.ndim - 1))
        if self.training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)  # var: ÷ m (biased)
            for key, batch in (("moving_mean", mean), ("moving_variance", var)):
                moving = self.state[key]
                moving *= self.momentum
                moving += (1.0 - self.momentum) * batch
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)
        self.x_hat = (x - mean) * self.inv_std
        return gamma * self.x_hat + beta

    def _input_grad(self, output_grad):
        g = output_grad * self.params["gamma"]
        if not self.training:
            return g * self.inv_std
        axes = tuple(range(g.ndim - 1))
        return (g - g.mean(axis=axes) - self.x_hat * (g * self.x_hat).mean(axis=axes)) * self.inv_std

    def _param_grads(self, output_grad):
        axes = tuple(range(output_grad.ndim - 1))
        return {"gamma": (output_grad * self.x_hat).sum(axis=axes), "beta": output_grad.sum(axis=axes)}


class BatchNormLayer(Layer):
    """BatchNorm as a layer: parameters ``<name>.gamma``, ``<name>.beta``; state ``<name>.moving_mean``,
    ``<name>.moving_variance`` (see :class:`BatchNorm`)."""

    def __init__(self, name: str, channels: int, dtype, momentum: float = 0.9, epsilon: float = 1e-5):
        self.norm = BatchNorm(np.ones(channels, dtype), np.zeros(channels, dtype), np.zeros(channels, dtype),
                              np.ones(channels, dtype), momentum, epsilon)
        super().__init__(name, [self.norm])


class GlobalAveragePool(Operation):
    """y[n, c] = mean_{i, j} x[n, i, j, c]:  x (N, H, W, C) → y (N, C);  dx[n, i, j, c] = dy[n, c] / (H·W)."""

    def _output(self):
        return self.input.mean(axis=(1, 2))

    def _input_grad(self, output_grad):
        _, h, w, _ = self.input.shape
        return np.broadcast_to(output_grad[:, None, None, :] / (h * w), self.input.shape).copy()


class GlobalAveragePoolLayer(Layer):
    def __init__(self, name: str):
        super().__init__(name, [GlobalAveragePool()])


class Residual(Layer):
    """y = act(F(x) + S(x)): a main branch F and a shortcut S (each a list of layers; S empty: the identity),
    added, then the activation.  Backward: dz = act'(·) dy goes down both branches, dx = dF/dx·dz + dS/dx·dz.
    Parameters and state are named ``<name>.<sublayer>.<param>``."""

    def __init__(self, name: str, main: list[Layer], shortcut: list[Layer], activation: str = "relu"):
        self.main, self.shortcut = main, shortcut
        self.activation = ACTIVATIONS[activation]()
        self.name = name

    @property
    def operations(self) -> list[Operation]:
        """Every operation of both branches and the activation (Network.train()/eval() switch them all)."""
        return [op for layer in (*self.main, *self.shortcut) for op in layer.operations] + [self.activation]

    def forward(self, x):
        main, short = x, x
        for layer in self.main:
            main = layer.forward(main)
        for layer in self.shortcut:
            short = layer.forward(short)
        return self.activation.forward(main + short)

    def backward(self, output_grad, input_grad: bool = True):
        dz = self.activation.backward(output_grad)
        d_main, d_short = dz, dz
        for layer in reversed(self.main):
            d_main = layer.backward(d_main)
        for layer in reversed(self.shortcut):
            d_short = layer.backward(d_short)
        return d_main + d_short if input_grad else None

    def _sub(self, attribute: str) -> dict:
        return {f"{layer.name}.{key}": value for layer in (*self.main, *self.shortcut)
                for key, value in getattr(layer, attribute).items()}

    @property
    def params(self):
        return self._sub("params")

    @property
    def param_grads(self):
        return self._sub("param_grads")

    @property
    def state(self):
        return self._sub("state")

    @property
    def variables(self):
        return self._sub("variables")
