"""Operations: the smallest pieces of the scratch framework, forward and backward side by side.

Every operation caches its input on ``forward`` and, on ``backward``, receives
dL/d(output) and returns dL/d(input).  Shapes are checked both ways: a gradient
always has the shape of the thing it is the gradient of.

A :class:`ParamOperation` also owns parameters (``self.params``, a dict of
arrays) and fills ``self.param_grads`` (same keys, same shapes) on backward.

These are the reference operations, written as their equations; ``scratch/fast/`` holds tuned
versions of some of them (proven equal by parity_tests/test_scratch_kernels.py).
"""
from __future__ import annotations

import numpy as np


def assert_same_shape(array: np.ndarray, grad: np.ndarray, what: str = "gradient") -> None:
    """Raise if ``grad`` does not have the shape of ``array``."""
    if array.shape != grad.shape:
        raise ValueError(f"{what} has shape {grad.shape}, expected {array.shape}")


class Operation:
    """y = f(x).  Subclasses implement ``_output`` and ``_input_grad``.

    ``backward(dy, input_grad=False)`` skips dL/dx (and returns None) where nothing upstream needs
    it: the first layers of a network during training."""

    training = True  # switched by Network.train()/eval(); only dropout-like ops care

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input = x
        self.output = self._output()
        return self.output

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        assert_same_shape(self.output, output_grad, f"{type(self).__name__} output gradient")
        if not input_grad:
            self.input_grad = None
            return None
        self.input_grad = self._input_grad(output_grad)
        assert_same_shape(self.input, self.input_grad, f"{type(self).__name__} input gradient")
        return self.input_grad

    def _output(self) -> np.ndarray:
        raise NotImplementedError

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class ParamOperation(Operation):
    """An operation with parameters: also computes dL/d(param) for each of ``self.params``."""

    def __init__(self, **params: np.ndarray):
        self.params = dict(params)
        self.param_grads: dict[str, np.ndarray] = {}

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        input_grad = super().backward(output_grad, input_grad)
        self.param_grads = self._param_grads(output_grad)
        for key, value in self.params.items():
            assert_same_shape(value, self.param_grads[key], f"{type(self).__name__} gradient of {key!r}")
        return input_grad

    def _param_grads(self, output_grad: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError


# ---------------------------------------------------------------- parameterised


class WeightMultiply(ParamOperation):
    """y = x W.   x (N, in), W (in, out) -> y (N, out);  dx = dy W^T,  dW = x^T dy."""

    def __init__(self, W: np.ndarray):
        super().__init__(W=W)

    def _output(self):
        return self.input @ self.params["W"]

    def _input_grad(self, output_grad):
        return output_grad @ self.params["W"].T

    def _param_grads(self, output_grad):
        return {"W": self.input.T @ output_grad}


class BiasAdd(ParamOperation):
    """y = x + b.   b (out,) broadcast over every leading axis;  db = sum of dy over them."""

    def __init__(self, b: np.ndarray):
        super().__init__(b=b)

    def _output(self):
        return self.input + self.params["b"]

    def _input_grad(self, output_grad):
        return output_grad

    def _param_grads(self, output_grad):
        return {"b": output_grad.reshape(-1, output_grad.shape[-1]).sum(axis=0)}


# ---------------------------------------------------------------- activations


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^−x).  For x < −709 (float64) e^−x overflows to inf and σ is 0, as it should be."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


class Linear(Operation):
    """y = x (identity activation)."""

    def _output(self):
        return self.input

    def _input_grad(self, output_grad):
        return output_grad


class Sigmoid(Operation):
    """y = σ(x);  dx = dy · y (1 − y)."""

    def _output(self):
        return sigmoid(self.input)

    def _input_grad(self, output_grad):
        return output_grad * self.output * (1.0 - self.output)


class Tanh(Operation):
    """y = tanh x;  dx = dy · (1 − y²)."""

    def _output(self):
        return np.tanh(self.input)

    def _input_grad(self, output_grad):
        return output_grad * (1.0 - self.output * self.output)


class ReLU(Operation):
    """y = max(x, 0);  dx = dy · [y > 0]  (= [x > 0])."""

    def _output(self):
        return np.maximum(self.input, 0)

    def _input_grad(self, output_grad):
        return output_grad * (self.output > 0)


ACTIVATIONS = {"linear": Linear, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}


# ---------------------------------------------------------------- regularisation


class Dropout(Operation):
    """Inverted dropout: y = x · m / (1 − p), m ~ Bernoulli(1 − p), in training only.

    In evaluation (``training = False``) or with p = 0 it is the identity.  ``mask``
    may be set from outside (a shared mask for parity); otherwise it is drawn from
    ``rng`` on every forward pass.  dx = dy · m / (1 − p).
    """

    def __init__(self, rate: float, rng: np.random.Generator | None = None):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.rng = rng if rng is not None else np.random.default_rng()
        self.mask: np.ndarray | None = None
        self.shared_mask: np.ndarray | None = None

    def _output(self):
        if not self.training or self.rate == 0.0:
            self.mask = None
            return self.input
        if self.shared_mask is not None:
            self.mask = self.shared_mask.astype(self.input.dtype)
        else:
            self.mask = (self.rng.random(self.input.shape, dtype=self.input.dtype) >= self.rate).astype(self.input.dtype)
        return self.input * self.mask / (1.0 - self.rate)

    def _input_grad(self, output_grad):
        if self.mask is None:
            return output_grad
        return output_grad * self.mask / (1.0 - self.rate)
