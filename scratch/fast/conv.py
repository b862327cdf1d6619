"""The tuned convolution: a Conv2D fused with the max-pool after it, its im2col columns kept between steps.

:class:`ConvPoolLayer` computes what :class:`scratch.conv.Conv2DLayer` followed by
:class:`scratch.conv.MaxPool2DLayer` computes (parity_tests/test_scratch_kernels.py proves it), in fewer
and cheaper passes:
- the windows are gathered once per pool offset, into a buffer kept from step to step, and multiplied
  with the kernel in one matmul; the pool is a plane-wise maximum over the p² planes of that product;
- the bias and the activation come after the pool, on a p² times smaller array, and in place: the max
  over a window commutes with adding the channel's bias and with any non-decreasing activation
  (ReLU, tanh, sigmoid, linear);
- the input gradient is one batched matmul for all kh·kw kernel offsets, then kh·kw contiguous adds.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from scratch import conv
from scratch.fast.ops import ACTIVATIONS, BiasAdd, Buffered, single_blas_thread
from scratch.layers import Layer


class Conv2D(Buffered, conv.Conv2D):
    """:class:`scratch.conv.Conv2D`, optionally followed by max-pooling over p×p windows (``pool=p``; 1: none).

    conv:  z[n, i, j, f] = Σ_{a, b, c} x̃[n, s·i + a, s·j + b, c] · K[a, b, c, f]
    pool:  y[n, i, j, f] = max_{u, v < p} z[n, p·i + u, p·j + v, f]                (floor: a ragged edge is dropped)

    x (N, H, W, C), K (kh, kw, C, F) → y (N, Ho, Wo, F).
    The windows X_col are gathered once per pool offset (u, v), as p² planes of rows (n, i, j) with
    columns (a, b, c), so one matmul gives every plane of z contiguous:  Z = X_col K_mat, y = the
    plane-wise max.  Backward: dz is dy on the plane holding each output's first arg-max in
    row-major order (as torch and TensorFlow route it) and zero elsewhere; dK = X_colᵀ dZ;
    dx: for each kernel offset (a, b), dZ K[a, b]ᵀ (all kh·kw in one batched matmul), added onto x̃
    shifted by (a, b) (kh·kw adds, no strided scatter), then unpadded.  z at the dropped edge is never
    computed: its gradient is zero.
    """

    def __init__(self, K: np.ndarray, stride: int = 1, padding: str = "valid", pool: int = 1):
        super().__init__(K, stride, padding)
        self.pool = pool

    def _grid(self, padded: np.ndarray, a: int, b: int, dims: int) -> np.ndarray:
        """The rows of ``padded`` that kernel offset (a, b) meets at every pooled conv position, as a
        (N, Ho, p, Wo, p, ·) view: conv position (p·i + u, p·j + v) reads row s·(p·i + u) + a."""
        s, p, (ho, wo) = self.stride, self.pool, self.out_size
        rows = padded[:, a:a + s * (p * ho - 1) + 1:s, b:b + s * (p * wo - 1) + 1:s]
        return rows.reshape(rows.shape[0], ho, p, wo, p, *rows.shape[3:3 + dims])

    def _output(self):
        x, K, s, p = self.input, self.params["W"], self.stride, self.pool
        kh, kw, c, f = K.shape
        self._check(x)
        self.pads = self._pads(x)
        padded = np.pad(x, ((0, 0), *self.pads, (0, 0))) if any(sum(q) for q in self.pads) else x
        self.padded_shape, n = padded.shape, len(x)
        self.out_size = ho, wo = ((padded.shape[1] - kh) // s + 1) // p, ((padded.shape[2] - kw) // s + 1) // p
        if ho < 1 or wo < 1:
            raise ValueError(f"Conv2D: a {kh}×{kw} kernel with stride {s} and pool {p} leaves nothing of {x.shape}")
        cols = self._buffer("cols", (p, p, n, ho, wo, kh, kw, c), x.dtype)  # im2col, reused from step to step
        if c < 4:  # few channels: kh·kw shifted copies running along W (the window copy would run along C)
            for a in range(kh):
                for b in range(kw):
                    cols[:, :, :, :, :, a, b] = self._grid(padded, a, b, 1).transpose(2, 4, 0, 1, 3, 5)
        else:
            windows = sliding_window_view(padded, (kh, kw), axis=(1, 2))  # (N, ·, ·, C, kh, kw)
            np.copyto(cols, self._grid(windows, 0, 0, 3).transpose(2, 4, 0, 1, 3, 6, 7, 5))
        self.cols = cols.reshape(-1, kh * kw * c)
        planes = (self.cols @ K.reshape(-1, f)).reshape(p * p, n, ho, wo, f)
        if p == 1:
            return planes[0]
        out = np.maximum(planes[0], planes[1])
        for k in range(2, p * p):
            np.maximum(out, planes[k], out=out)
        self.hits = np.empty(planes.shape, bool)  # plane k holds the first arg-max
        taken = np.zeros(out.shape, bool)
        for k in range(p * p):
            np.equal(planes[k], out, out=self.hits[k])
            self.hits[k] &= ~taken
            taken |= self.hits[k]
        return out

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dZ (p²·N·Ho·Wo, F) first, which both gradients use: dy on each output's arg-max plane, zero elsewhere."""
        if self.pool == 1:
            self.dz = output_grad.reshape(-1, output_grad.shape[3])
        else:
            dz = self._buffer("dz", self.hits.shape, output_grad.dtype)
            self.dz = np.multiply(output_grad, self.hits, out=dz).reshape(-1, output_grad.shape[3])
        return super().backward(output_grad, input_grad)

    def _input_grad(self, output_grad):
        K, p = self.params["W"], self.pool
        kh, kw, c, f = K.shape
        n, (ho, wo) = len(output_grad), self.out_size
        per_offset = self._buffer("per_offset", (kh * kw, p * p * n * ho * wo, c), output_grad.dtype)
        with single_blas_thread():  # kh·kw thin (·, F)·(F, C) products: a second thread costs more than it saves
            np.matmul(self.dz, K.reshape(kh * kw, c, f).transpose(0, 2, 1), out=per_offset)
        dpadded = np.zeros(self.padded_shape, dtype=output_grad.dtype)
        for a in range(kh):
            for b in range(kw):
                self._grid(dpadded, a, b, 1)[...] += per_offset[a * kw + b].reshape(p, p, n, ho, wo, c).transpose(
                    2, 3, 0, 4, 1, 5)
        (top, bottom), (left, right) = self.pads
        return dpadded[:, top:dpadded.shape[1] - bottom, left:dpadded.shape[2] - right]

    def _param_grads(self, output_grad):
        K = self.params["W"]
        return {"W": (self.cols.T @ self.dz).reshape(K.shape)}


class ConvPoolLayer(Layer):
    """y = maxpool_p(act(conv(x, W) + b)), without the pool when ``pool`` is 1.
    x (N, H, W, C), W (kh, kw, C, F), b (F,) → y (N, Ho, Wo, F).

    Computed as act(maxpool_p(conv(x, W)) + b): the same numbers, since the max over a window
    commutes with adding the channel's bias and with any non-decreasing activation (ReLU, tanh,
    sigmoid, linear) — and then the bias and the activation see a p² times smaller array."""

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str = "linear", stride: int = 1,
                 padding: str = "valid", pool: int = 1):
        super().__init__(name, [Conv2D(W, stride, padding, pool), BiasAdd(b, inplace=True),
                                ACTIVATIONS[activation](inplace=True)])


class Conv2DTranspose(conv.Conv2DTranspose):
    """:class:`scratch.conv.Conv2DTranspose` (the adjoint of the stride-s 'same' convolution C), in matmuls:

        forward:  P = x_rows K_mat for all kh·kw offsets at once (one batched matmul, x_rows (N·h·w, C),
                  K (kh, kw, F, C) → P (kh·kw, N·h·w, F)), then ỹ[:, s·i + a, s·j + b] += P[a, b] (kh·kw adds),
                  cropped by TensorFlow's 'same' rule;
        backward: dx = C(dy) by the tuned :class:`Conv2D` (pool 1), whose im2col columns X_col of d̃y then
                  give dK = (X_colᵀ x_rows) in one matmul.
    The reference computes the same sums with kh·kw broadcast matmuls over every pixel row and, backward, a
    tensordot over strided windows."""

    def __init__(self, K: np.ndarray, stride: int = 2):
        super().__init__(K, stride)
        self.adjoint = Conv2D(K, stride, "same")

    def _output(self):
        x, K, s = self.input, self.params["W"], self.stride
        if x.ndim != 4 or x.shape[3] != K.shape[3]:
            raise ValueError(f"Conv2DTranspose expects input (N, H, W, {K.shape[3]}), got {x.shape}")
        self.adjoint.params["W"] = K
        n, h, w, c = x.shape
        kh, kw, f, _ = K.shape
        (top, bottom), (left, right) = conv.same_padding(s * h, kh, s), conv.same_padding(s * w, kw, s)
        with single_blas_thread():  # as in Conv2D's input gradient
            per_offset = np.matmul(x.reshape(-1, c), K.reshape(kh * kw, f, c).transpose(0, 2, 1))  # (kh·kw, N·h·w, F)
        full = np.zeros((n, s * h + top + bottom, s * w + left + right, f), dtype=per_offset.dtype)
        for a in range(kh):
            for b in range(kw):
                full[:, a:a + s * (h - 1) + 1:s, b:b + s * (w - 1) + 1:s] += per_offset[a * kw + b].reshape(n, h, w, f)
        return full[:, top:full.shape[1] - bottom, left:full.shape[2] - right]

    def _input_grad(self, output_grad):
        return self.adjoint.forward(output_grad)

    def _param_grads(self, output_grad):
        if getattr(self.adjoint, "input", None) is not output_grad:  # the columns of d̃y (no input gradient asked)
            self.adjoint.forward(output_grad)
        x = self.input
        return {"W": (self.adjoint.cols.T @ x.reshape(-1, x.shape[3])).reshape(self.params["W"].shape)}


class Conv2DTransposeLayer(Layer):
    """y = act(conv_transpose(x, W) + b), the bias and the activation in place on the fresh output."""

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str = "linear", stride: int = 2):
        super().__init__(name, [Conv2DTranspose(W, stride), BiasAdd(b, inplace=True),
                                ACTIVATIONS[activation](inplace=True)])
