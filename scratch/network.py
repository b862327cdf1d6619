"""Network: layers run forward, the loss gradient run backward, parameters named ``"<layer>.<param>"``."""
from __future__ import annotations

import numpy as np

from scratch.layers import Layer
from scratch.losses import Loss


class Network:
    """layers[0] → … → layers[-1] → loss.  ``backward`` returns dL/d(input).

    ``l2`` {param name: λ} adds λ/2·‖p‖² per named parameter to the loss (d2l's weight decay), so
    the loss is L = data loss + Σ λ/2·‖p‖² and its gradient gains λ·p.
    """

    def __init__(self, layers: list[Layer], loss: Loss, input_shape: tuple, l2: dict[str, float] | None = None):
        self.layers = layers
        self.loss = loss
        self.input_shape = tuple(input_shape)  # one sample, for summary()
        self.l2 = {name: float(lam) for name, lam in (l2 or {}).items() if lam}
        unknown = sorted(set(self.l2) - set(self.params()))
        if unknown:
            raise ValueError(f"l2 names no parameter {unknown}; expected some of {sorted(self.params())}")

    def train(self, mode: bool = True) -> "Network":
        for layer in self.layers:
            for op in layer.operations:
                op.training = mode
        return self

    def eval(self) -> "Network":
        return self.train(False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, loss_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dL/d(input); with ``input_grad=False`` None, and no layer before the first one with
        parameters computes its input gradient (training does not need them)."""
        for i in reversed(range(len(self.layers))):
            needed = input_grad or any(layer.params for layer in self.layers[:i])
            loss_grad = self.layers[i].backward(loss_grad, needed)
            if not needed:  # no layer before this one has parameters
                return None
        return loss_grad

    def forward_loss(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.loss.forward(self.forward(x), y) + self.penalty()

    def penalty(self) -> float:
        """Σ λ/2·‖p‖² over the parameters named in ``l2`` (0 without any)."""
        params = self.params()
        return sum(lam / 2 * float(np.sum(params[name] ** 2)) for name, lam in self.l2.items())

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, input_grad: bool = True) -> tuple[float, dict, np.ndarray | None]:
        """One forward and backward pass: (loss, {param name: dL/dparam}, dL/dx or None without ``input_grad``),
        the L2 terms included."""
        loss = self.forward_loss(x, y)
        dx = self.backward(self.loss.backward(), input_grad)
        return loss, self.grads(), dx

    def grads(self) -> dict[str, np.ndarray]:
        """{param name: dL/dparam} of the last backward pass, with the L2 terms' λ·p where ``l2`` names p."""
        grads, params = self.param_grads(), self.params()
        grads.update({name: grads[name] + lam * params[name] for name, lam in self.l2.items()})
        return grads

    def params(self) -> dict[str, np.ndarray]:
        """Live parameter arrays (optimizers update them in place)."""
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in layer.params.items()}

    def state(self) -> dict[str, np.ndarray]:
        """Live non-trainable state arrays ``"<layer>.<name>"`` (BatchNorm's moving statistics): set and read with
        the parameters, updated by the forward pass in training mode, never by an optimizer."""
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in layer.state.items()}

    def variables(self) -> dict[str, np.ndarray]:
        """Parameters and state: every canonical entry, layer by layer (the layout's order)."""
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in layer.variables.items()}

    def param_grads(self) -> dict[str, np.ndarray]:
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in layer.param_grads.items()}

    def summary(self) -> list[tuple[str, str, tuple, int]]:
        """Rows (layer name, layer type, output shape per sample, parameter count)."""
        rows, shape = [], self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            count = sum(int(v.size) for v in layer.params.values())
            rows.append((layer.name, type(layer).__name__, tuple(shape), count))
        return rows
