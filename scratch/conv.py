"""Convolution, max-pooling and reshaping for images in NHWC layout (as Keras/TensorFlow store them).

The reference operations, as their equations: a convolution (Conv2D), then a max-pool (MaxPool2D), each
with its backward pass beside its forward.  Both are vectorised over the batch and the pixels: the
convolution reads every window at once through ``sliding_window_view`` and contracts it with the kernel
(one tensordot); its input gradient adds one shifted block per kernel offset (kh·kw adds).  The tuned
kernel that fuses a convolution with the pool after it is ``scratch/fast/conv.py``.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from triptych.canonical import same_padding  # TensorFlow's rule: the odd extra pixel goes after
from scratch.ops import ACTIVATIONS, BiasAdd, Operation, ParamOperation
from scratch.layers import Layer

PADDINGS = ("valid", "same")


class Conv2D(ParamOperation):
    """z[n, i, j, f] = Σ_{a, b, c} x̃[n, s·i + a, s·j + b, c] · K[a, b, c, f]   (cross-correlation, no bias)

    x (N, H, W, C), K (kh, kw, C, F) → z (N, Ho, Wo, F), x̃ = x zero-padded as ``padding`` says ('same':
    TensorFlow's rule), Ho = ⌊(H̃ − kh) / s⌋ + 1.  Backward, from dz:
        dK[a, b, c, f] = Σ_{n, i, j} x̃[n, s·i + a, s·j + b, c] · dz[n, i, j, f]
        dx̃[n, s·i + a, s·j + b, c] += Σ_f dz[n, i, j, f] · K[a, b, c, f]    for every offset (a, b)
    and dx is dx̃ without its padding.
    """

    def __init__(self, K: np.ndarray, stride: int = 1, padding: str = "valid"):
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        if K.ndim != 4:
            raise ValueError(f"a conv kernel is (kh, kw, in, out), got shape {K.shape}")
        super().__init__(W=K)
        self.stride, self.padding = stride, padding

    def _pads(self, x: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)) zero rows and columns around x."""
        kh, kw = self.params["W"].shape[:2]
        if self.padding == "valid":
            return (0, 0), (0, 0)
        return same_padding(x.shape[1], kh, self.stride), same_padding(x.shape[2], kw, self.stride)

    def _check(self, x: np.ndarray) -> None:
        c = self.params["W"].shape[2]
        if x.ndim != 4 or x.shape[3] != c:
            raise ValueError(f"Conv2D expects input (N, H, W, {c}), got {x.shape}")

    def _output(self):
        x, K, s = self.input, self.params["W"], self.stride
        self._check(x)
        self.pads = self._pads(x)
        padded = np.pad(x, ((0, 0), *self.pads, (0, 0)))
        if padded.shape[1] < K.shape[0] or padded.shape[2] < K.shape[1]:
            raise ValueError(f"Conv2D: a {K.shape[0]}×{K.shape[1]} kernel does not fit in {x.shape}")
        self.padded_shape = padded.shape
        # windows[n, i, j, c, a, b] = x̃[n, s·i + a, s·j + b, c]   (a view, nothing copied)
        self.windows = sliding_window_view(padded, K.shape[:2], axis=(1, 2))[:, ::s, ::s]
        return np.tensordot(self.windows, K, axes=([3, 4, 5], [2, 0, 1]))

    def _input_grad(self, output_grad):
        K, s = self.params["W"], self.stride
        kh, kw = K.shape[:2]
        _, ho, wo, _ = output_grad.shape
        dpadded = np.zeros(self.padded_shape, dtype=output_grad.dtype)
        for a in range(kh):
            for b in range(kw):
                dpadded[:, a:a + s * (ho - 1) + 1:s, b:b + s * (wo - 1) + 1:s] += output_grad @ K[a, b].T
        (top, bottom), (left, right) = self.pads
        return dpadded[:, top:dpadded.shape[1] - bottom, left:dpadded.shape[2] - right]

    def _param_grads(self, output_grad):
        dK = np.tensordot(self.windows, output_grad, axes=([0, 1, 2], [0, 1, 2]))  # (C, kh, kw, F)
        return {"W": dK.transpose(1, 2, 0, 3)}


class Conv2DTranspose(ParamOperation):
    """The adjoint of :class:`Conv2D`: y = Cᵀ x, where C is the stride-s 'same' convolution with kernel K that maps
    (N, s·h, s·w, F) to (N, h, w, C).  x (N, h, w, C), K (kh, kw, F, C) (Keras's Conv2DTranspose layout: (kh, kw, out,
    in)) → y (N, s·h, s·w, F):
        ỹ[n, s·i + a, s·j + b, f] += Σ_c x[n, i, j, c] · K[a, b, f, c]    for every offset (a, b) (ỹ: (s − 1)·h + kh rows)
    and y is ỹ cropped by TensorFlow's 'same' padding of the s·h side (top = total // 2, the odd row dropped at the
    bottom: torch's padding=1, output_padding=1 crops the other way).  Backward is C itself, from dy:
        dx = conv_same(dy, K, stride s),   dK[a, b, f, c] = Σ_{n, i, j} d̃y[n, s·i + a, s·j + b, f] · x[n, i, j, c]
    """

    def __init__(self, K: np.ndarray, stride: int = 2):
        if K.ndim != 4:
            raise ValueError(f"a transposed-conv kernel is (kh, kw, out, in), got shape {K.shape}")
        super().__init__(W=K)
        self.stride = stride
        self.adjoint = Conv2D(K, stride, "same")  # C, on the very same kernel array

    def _output(self):
        x, K, s = self.input, self.params["W"], self.stride
        if x.ndim != 4 or x.shape[3] != K.shape[3]:
            raise ValueError(f"Conv2DTranspose expects input (N, H, W, {K.shape[3]}), got {x.shape}")
        self.adjoint.params["W"] = K
        n, h, w, _ = x.shape
        kh, kw = K.shape[:2]
        (top, bottom), (left, right) = same_padding(s * h, kh, s), same_padding(s * w, kw, s)
        full = np.zeros((n, s * h + top + bottom, s * w + left + right, K.shape[2]), dtype=np.result_type(x, K))
        for a in range(kh):
            for b in range(kw):
                full[:, a:a + s * (h - 1) + 1:s, b:b + s * (w - 1) + 1:s] += x @ K[a, b].T
        return full[:, top:full.shape[1] - bottom, left:full.shape[2] - right]

    def _input_grad(self, output_grad):
        return self.adjoint.forward(output_grad)

    def _param_grads(self, output_grad):
        if getattr(self.adjoint, "input", None) is not output_grad:  # the windows of d̃y (no input gradient asked)
            self.adjoint.forward(output_grad)
        return self.adjoint._param_grads(self.input)


class MaxPool2D(Operation):
    """y[n, i, j, c] = max_{u, v < p} x[n, p·i + u, p·j + v, c]: p×p windows, stride p, no padding.

    x (N, H, W, C) → y (N, ⌊H/p⌋, ⌊W/p⌋, C): trailing rows and columns that do not fill a window are
    dropped (floor), as in both frameworks.  Backward: each dy[n, i, j, c] goes to the first arg-max of its
    window in row-major order (as torch and TensorFlow route it); every other input, and the dropped rows
    and columns, get zero.
    """

    def __init__(self, pool: int = 2):
        self.pool = pool

    def _windows(self, x: np.ndarray) -> np.ndarray:
        """(N, Ho, Wo, C, p·p): window (i, j)'s p² values in row-major order."""
        p = self.pool
        n, h, w, c = x.shape
        blocks = x[:, :h // p * p, :w // p * p].reshape(n, h // p, p, w // p, p, c)
        return blocks.transpose(0, 1, 3, 5, 2, 4).reshape(n, h // p, w // p, c, p * p)

    def _output(self):
        return self._windows(self.input).max(axis=-1)

    def _input_grad(self, output_grad):
        p = self.pool
        first = self._windows(self.input).argmax(axis=-1)  # argmax: the first maximum
        routed = (np.arange(p * p) == first[..., None]) * output_grad[..., None]  # (N, Ho, Wo, C, p²)
        n, ho, wo, c, _ = routed.shape
        dx = np.zeros_like(self.input, dtype=output_grad.dtype)
        dx[:, :ho * p, :wo * p] = routed.reshape(n, ho, wo, c, p, p).transpose(0, 1, 4, 2, 5, 3).reshape(
            n, ho * p, wo * p, c)
        return dx


class Reshape(Operation):
    """y = x reshaped to (N, *shape) (C order); dx = dy reshaped back.  Flatten is shape (−1,)."""

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def _output(self):
        return self.input.reshape(len(self.input), *self.shape)

    def _input_grad(self, output_grad):
        return output_grad.reshape(self.input.shape)


class Flatten(Reshape):
    """(N, H, W, C) → (N, H·W·C) with C fastest: the canonical (H, W, C) row order of the next dense layer."""

    def __init__(self):
        super().__init__((-1,))


# ---------------------------------------------------------------- layers


class Conv2DLayer(Layer):
    """y = act(conv(x, W) + b).   x (N, H, W, C), W (kh, kw, C, F), b (F,) → y (N, Ho, Wo, F)."""

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str = "linear", stride: int = 1,
                 padding: str = "valid"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
        self.activation, self.stride, self.padding = activation, stride, padding
        super().__init__(name, [Conv2D(W, stride, padding), BiasAdd(b), ACTIVATIONS[activation]()])


class Conv2DTransposeLayer(Layer):
    """y = act(conv_transpose(x, W) + b).   x (N, h, w, C), W (kh, kw, F, C), b (F,) → y (N, s·h, s·w, F)."""

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str = "linear", stride: int = 2):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
        self.activation, self.stride = activation, stride
        super().__init__(name, [Conv2DTranspose(W, stride), BiasAdd(b), ACTIVATIONS[activation]()])


class MaxPool2DLayer(Layer):
    """y = maxpool_p(x) over p×p windows (:class:`MaxPool2D`); no parameters."""

    def __init__(self, name: str, pool: int = 2):
        self.pool = pool
        super().__init__(name, [MaxPool2D(pool)])


class ReshapeLayer(Layer):
    def __init__(self, name: str, shape: tuple):
        super().__init__(name, [Reshape(shape)])


class FlattenLayer(Layer):
    def __init__(self, name: str):
        super().__init__(name, [Flatten()])
