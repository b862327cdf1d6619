"""Convolution, max-pooling and reshaping for images in NHWC layout (as Keras/TensorFlow store them).

Everything is vectorised: the convolution gathers its windows once (im2col through
``sliding_window_view``) and multiplies them with the kernel in one matmul; the
backward pass scatters the window gradients back with one strided add per kernel
offset (kh·kw adds, never a loop over pixels or samples).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from triptych.canonical import same_padding  # TensorFlow's rule: the odd extra pixel goes after
from scratch.ops import ACTIVATIONS, BiasAdd, Operation, ParamOperation
from scratch.layers import Layer

PADDINGS = ("valid", "same")


class Conv2D(ParamOperation):
    """y[n, i, j, f] = Σ_{a, b, c} x̃[n, s·i + a, s·j + b, c] · K[a, b, c, f]  (cross-correlation, no bias).

    x (N, H, W, C), K (kh, kw, C, F) → y (N, Ho, Wo, F), x̃ = x zero-padded as ``padding`` says.
    With the windows X_col (N·Ho·Wo, kh·kw·C):  y = X_col K_mat,  dK = X_colᵀ dy,
    dX_col = dy K_matᵀ scattered back onto x̃ (overlapping windows add up), then unpadded.
    """

    def __init__(self, K: np.ndarray, stride: int = 1, padding: str = "valid"):
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        if K.ndim != 4:
            raise ValueError(f"a conv kernel is (kh, kw, in, out), got shape {K.shape}")
        super().__init__(W=K)
        self.stride, self.padding = stride, padding

    def _pads(self, x: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
        kh, kw = self.params["W"].shape[:2]
        if self.padding == "valid":
            return (0, 0), (0, 0)
        return same_padding(x.shape[1], kh, self.stride), same_padding(x.shape[2], kw, self.stride)

    def _output(self):
        x, K, s = self.input, self.params["W"], self.stride
        kh, kw, c, f = K.shape
        if x.ndim != 4 or x.shape[3] != c:
            raise ValueError(f"Conv2D expects input (N, H, W, {c}), got {x.shape}")
        self.pads = self._pads(x)
        padded = np.pad(x, ((0, 0), *self.pads, (0, 0))) if any(sum(p) for p in self.pads) else x
        self.padded_shape = padded.shape
        windows = sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::s, ::s]  # (N, Ho, Wo, C, kh, kw)
        n, ho, wo = windows.shape[:3]
        self.cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, kh * kw * c)  # im2col (copies)
        return (self.cols @ K.reshape(kh * kw * c, f)).reshape(n, ho, wo, f)

    def _input_grad(self, output_grad):
        K, s = self.params["W"], self.stride
        kh, kw, c, f = K.shape
        n, ho, wo, _ = output_grad.shape
        dcols = (output_grad.reshape(-1, f) @ K.reshape(-1, f).T).reshape(n, ho, wo, kh, kw, c)
        dpadded = np.zeros(self.padded_shape, dtype=output_grad.dtype)
        for a in range(kh):
            for b in range(kw):
                dpadded[:, a:a + s * (ho - 1) + 1:s, b:b + s * (wo - 1) + 1:s] += dcols[:, :, :, a, b]
        (top, bottom), (left, right) = self.pads
        return dpadded[:, top:dpadded.shape[1] - bottom, left:dpadded.shape[2] - right]

    def _param_grads(self, output_grad):
        K = self.params["W"]
        return {"W": (self.cols.T @ output_grad.reshape(-1, K.shape[3])).reshape(K.shape)}


class MaxPool2D(Operation):
    """y[n, i, j, c] = max over the p×p window at (p·i, p·j); stride p, no padding.

    x (N, H, W, C) → y (N, ⌊H/p⌋, ⌊W/p⌋, C): trailing rows and columns that do not fill a
    window are dropped (floor), as in both frameworks.  dx: dy routed to the first arg-max of
    each window in row-major order (as torch and TensorFlow do), zero elsewhere and on the
    dropped rows and columns.
    """

    def __init__(self, pool: int = 2):
        self.pool = pool

    def _blocks(self, x: np.ndarray) -> np.ndarray:
        """(N, Ho, p, Wo, p, C): window (i, j) is [:, i, :, j, :, :]; a view when nothing is cropped."""
        p = self.pool
        n, h, w, c = x.shape
        return x[:, :h // p * p, :w // p * p].reshape(n, h // p, p, w // p, p, c)

    def _output(self):
        return self._blocks(self.input).max(axis=(2, 4))

    def _input_grad(self, output_grad):
        p = self.pool
        blocks = self._blocks(self.input)
        routed = np.zeros_like(blocks, dtype=output_grad.dtype)
        taken = np.zeros(self.output.shape, dtype=bool)
        for a in range(p):  # p² window offsets, each over the whole batch
            for b in range(p):
                hit = blocks[:, :, a, :, b] == self.output
                hit &= ~taken
                taken |= hit
                np.multiply(output_grad, hit, out=routed[:, :, a, :, b])
        n, ho, _, wo, _, c = routed.shape
        if (ho * p, wo * p) == self.input.shape[1:3]:  # nothing was cropped
            return routed.reshape(self.input.shape)
        dx = np.zeros_like(self.input, dtype=output_grad.dtype)
        dx[:, :ho * p, :wo * p] = routed.reshape(n, ho * p, wo * p, c)
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
    """y = act(conv(x, W) + b).  x (N, H, W, C), W (kh, kw, C, F), b (F,) → y (N, Ho, Wo, F)."""

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str = "linear", stride: int = 1,
                 padding: str = "valid"):
        super().__init__(name, [Conv2D(W, stride, padding), BiasAdd(b), ACTIVATIONS[activation]()])


class MaxPoolLayer(Layer):
    def __init__(self, name: str, pool: int = 2):
        super().__init__(name, [MaxPool2D(pool)])


class ReshapeLayer(Layer):
    def __init__(self, name: str, shape: tuple):
        super().__init__(name, [Reshape(shape)])


class FlattenLayer(Layer):
    def __init__(self, name: str):
        super().__init__(name, [Flatten()])
