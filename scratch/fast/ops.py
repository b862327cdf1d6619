"""Tuned forms of scratch's element-wise operations, and the helpers the fast kernels share.

- :func:`sigmoid` through one tanh: σ(x) = (1 + tanh(x/2)) / 2, the same function, no overflow for large
  |x|, written into ``out`` when given;
- activations and the bias that may write their output over their input (``inplace=True``: the layer
  guarantees the input is a fresh array nobody else reads);
- :class:`Buffered`: scratch arrays an operation keeps from one step to the next;
- :func:`single_blas_thread`: NumPy's BLAS on one thread around the recurrent time loops.

Each is the reference operation of :mod:`scratch.ops` with the same backward pass.
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import ThreadpoolController

from scratch import ops

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


class Buffered:
    """Mixin for operations that keep scratch arrays between calls (such as im2col columns)."""

    def _buffer(self, name: str, shape: tuple, dtype, zeroed: bool = False) -> np.ndarray:
        """The array ``name`` of this shape and dtype, allocated on first use and when either changes; its
        contents are whatever the last call left (temporaries that never leave the operation).  ``zeroed``:
        all zeros when allocated (a padded grid whose callers only ever write its interior)."""
        buffers = self.__dict__.setdefault("_buffers", {})
        array = buffers.get(name)
        if array is None or array.shape != tuple(shape) or array.dtype != dtype:
            array = buffers[name] = (np.zeros if zeroed else np.empty)(shape, dtype)
        return array


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + e^−x), computed as (1 + tanh(x/2)) / 2 (into ``out`` if given)."""
    y = np.multiply(x, 0.5, out=out)
    np.tanh(y, out=y)
    y += 1.0
    y *= 0.5
    return y


class InPlace:
    """Mixin: with ``inplace=True`` the output overwrites the input (the backward passes read only the output)."""

    def __init__(self, inplace: bool = False):
        self.inplace = inplace

    def _out(self) -> np.ndarray | None:
        return self.input if self.inplace else None


class BiasAdd(ops.BiasAdd):
    """:class:`scratch.ops.BiasAdd`, optionally in place."""

    def __init__(self, b: np.ndarray, inplace: bool = False):
        super().__init__(b)
        self.inplace = inplace

    def _output(self):
        return np.add(self.input, self.params["b"], out=self.input if self.inplace else None)


class Linear(InPlace, ops.Linear):
    """y = x (nothing to write)."""


class Sigmoid(InPlace, ops.Sigmoid):
    """σ through one tanh (:func:`sigmoid`)."""

    def _output(self):
        return sigmoid(self.input, self._out())


class Tanh(InPlace, ops.Tanh):
    def _output(self):
        return np.tanh(self.input, out=self._out())


class ReLU(InPlace, ops.ReLU):
    def _output(self):
        return np.maximum(self.input, 0, out=self._out())


ACTIVATIONS = {"linear": Linear, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
