"""Operations: the smallest pieces of the scratch framework, forward and backward side by side.

Every operation caches its input on ``forward`` and, on ``backward``, receives
dL/d(output) and returns dL/d(input).  Shapes are checked both ways: a gradient
always has the shape of the thing it is the gradient of.

A :class:`ParamOperation` also owns parameters (``self.params``, a dict of
arrays) and fills ``self.param_grads`` (same keys, same shapes) on backward.
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import ThreadpoolController

_BLAS: ThreadpoolController | None = None


def single_blas_thread():
    """Context manager: NumPy's BLAS on one thread while it is open (threadpoolctl).

    For the small matmuls of a recurrent time loop, (N, u)·(u, 4u) once per step: handing each to a
    second thread costs more than it saves, and far more when the machine's cores are busy (measured:
    the LSTM forward pass 4 ms on one thread, 87 ms on two beside other jobs)."""
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController().select(user_api="blas")
    return _BLAS.limit(limits=1)


def assert_same_shape(array: np.ndarray, grad: np.ndarray, what: str = "gradient") -> None:
    """Raise if ``grad`` does not have the shape of ``array``."""
    if array.shape != grad.shape:
        raise ValueError(f"{what} has shape {grad.shape}, expected {array.shape}")


class Operation:
    """y = f(x).  Subclasses implement ``_output`` and ``_input_grad``.

    ``backward(dy, input_grad=False)`` skips dL/dx (and returns None) where nothing upstream needs
    it: the first layers of a network during training.  An operation built with ``inplace=True``
    may write its output over its input (its layer guarantees the input is a fresh array nobody
    else reads)."""

    training = True  # switched by Network.train()/eval(); only dropout-like ops care
    inplace = False

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

    def _buffer(self, name: str, shape: tuple, dtype) -> np.ndarray:
        """A scratch array this operation keeps between calls (reallocated when the shape or dtype
        changes): for temporaries that never leave the operation, such as im2col columns."""
        buffers = self.__dict__.setdefault("_buffers", {})
        array = buffers.get(name)
        if array is None or array.shape != tuple(shape) or array.dtype != dtype:
            array = buffers[name] = np.empty(shape, dtype)
        return array

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

    def __init__(self, b: np.ndarray, inplace: bool = False):
        super().__init__(b=b)
        self.inplace = inplace

    def _output(self):
        return np.add(self.input, self.params["b"], out=self.input if self.inplace else None)

    def _input_grad(self, output_grad):
        return output_grad

    def _param_grads(self, output_grad):
        return {"b": output_grad.reshape(-1, output_grad.shape[-1]).sum(axis=0)}


# ---------------------------------------------------------------- activations


class Activation(Operation):
    """An element-wise y = f(x); with ``inplace=True`` y overwrites x (the backward reads only y)."""

    def __init__(self, inplace: bool = False):
        self.inplace = inplace

    def _out(self) -> np.ndarray | None:
        return self.input if self.inplace else None


class Linear(Activation):
    """y = x (identity activation)."""

    def _output(self):
        return self.input

    def _input_grad(self, output_grad):
        return output_grad


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + e^−x), computed as (1 + tanh(x/2)) / 2: the same function, no overflow for large |x|."""
    y = np.multiply(x, 0.5, out=out)
    np.tanh(y, out=y)
    y += 1.0
    y *= 0.5
    return y


class Sigmoid(Activation):
    """y = σ(x);  dx = dy · y (1 − y)."""

    def _output(self):
        return sigmoid(self.input, self._out())

    def _input_grad(self, output_grad):
        return output_grad * self.output * (1.0 - self.output)


class Tanh(Activation):
    """y = tanh x;  dx = dy · (1 − y²)."""

    def _output(self):
        return np.tanh(self.input, out=self._out())

    def _input_grad(self, output_grad):
        return output_grad * (1.0 - self.output * self.output)


class ReLU(Activation):
    """y = max(x, 0);  dx = dy · [y > 0]  (= [x > 0], and y survives an in-place forward)."""

    def _output(self):
        return np.maximum(self.input, 0, out=self._out())

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
