"""The tuned convolution: a Conv2D fused with the max-pool after it, its im2col columns kept between steps.

:class:`ConvPoolLayer` computes what :class:`scratch.conv.Conv2DLayer` followed by
:class:`scratch.conv.MaxPool2DLayer` computes (parity_tests/test_scratch_kernels.py proves it), in fewer
and cheaper passes:
- the windows are gathered once per pool offset, into a buffer kept from step to step, and multiplied
  with the kernel in one matmul; the pool is a plane-wise maximum over the p² planes of that product;
- the bias and the activation come after the pool, on a p² times smaller array, and in place: the max
  over a window commutes with adding the channel's bias and with any non-decreasing activation
  (ReLU, tanh, sigmoid, linear);
- the input gradient is one batched matmul for all kh·kw kernel offsets, then kh·kw contiguous adds;
- a stride-1 convolution without pool (a ResNet's) gathers no windows at all: on the padded input's rows
  (:func:`shifted_products`, :func:`shifted_outer`), forward, input gradient and kernel gradient are kh·kw
  matmuls of contiguous row slices each, block by block.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from scratch import conv
from scratch.fast.ops import ACTIVATIONS, BiasAdd, Buffered, single_blas_thread
from scratch.layers import Layer

ROWS_BLOCK = 2048  # rows per block of the shifted products: every operand's block stays in the L2 cache
ROWS_MIN_CHANNELS = 4  # fewer input channels: the (·, C)·(C, F) products are too thin, im2col is faster
ROWS_MAX_GRID = 1.5  # the rows path computes z on the whole padded grid: at most this many times the output's size


def shifted_products(rows: np.ndarray, kernels: np.ndarray, offsets: list[int], out: np.ndarray, length: int) -> None:
    """out[r] = Σ_k rows[r + o_k] · kernels[k]  for r < length (rows (M, C), kernels (k, C, F), out (M, F)).

    On a padded image grid flattened to rows (n, i, j), kernel offset (a, b) is the constant row offset
    o = a·W̃ + b, so a stride-1 convolution is this sum, read at the rows (n, i, j) with i < Ho, j < Wo: kh·kw
    matmuls of contiguous slices, with no window copied.  Computed ROWS_BLOCK rows at a time, on one BLAS thread
    (thin products: a second thread costs more than it saves)."""
    scratch = np.empty((min(ROWS_BLOCK, length), out.shape[1]), out.dtype)
    with single_blas_thread():
        for start in range(0, length, ROWS_BLOCK):
            stop = min(start + ROWS_BLOCK, length)
            block, part = out[start:stop], scratch[:stop - start]
            np.matmul(rows[start + offsets[0]:stop + offsets[0]], kernels[0], out=block)
            for o, kernel in zip(offsets[1:], kernels[1:]):
                np.matmul(rows[start + o:stop + o], kernel, out=part)
                block += part


def shifted_outer(rows: np.ndarray, grads: np.ndarray, offsets: list[int], length: int) -> np.ndarray:
    """G[k] = Σ_{r < length} rows[r + o_k]ᵀ grads[r]  (rows (M, C), grads (M, F) → G (k, C, F)): the kernel
    gradient of :func:`shifted_products`, the gradient zero on the rows outside the output.  By blocks and on one
    BLAS thread too."""
    total = np.zeros((len(offsets), rows.shape[1], grads.shape[1]), np.result_type(rows, grads))
    part = np.empty(total.shape[1:], total.dtype)
    with single_blas_thread():
        for start in range(0, length, ROWS_BLOCK):
            stop = min(start + ROWS_BLOCK, length)
            for k, o in enumerate(offsets):
                np.matmul(rows[start + o:stop + o].T, grads[start:stop], out=part)
                total[k] += part
    return total


def offsets_and_length(grid_shape: tuple, kh: int, kw: int) -> tuple[list[int], int]:
    """The row offsets a·W̃ + b of the kernel offsets (a, b) on a (N, H̃, W̃, ·) grid in row-major order, and the
    number of rows every offset can read (the last output row reads offset (kh − 1, kw − 1))."""
    _, hg, wg = grid_shape[:3]
    rows = grid_shape[0] * hg * wg
    return [a * wg + b for a in range(kh) for b in range(kw)], rows - (kh - 1) * wg - (kw - 1)


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

    Stride 1 without pool, with ≥ ROWS_MIN_CHANNELS input channels, on a padded grid at most ROWS_MAX_GRID times the
    output (the rows path; measured on a ResNet's 28×28 and 14×14, not its 7×7): x̃ is kept in a zero-bordered
    buffer, z = :func:`shifted_products` of its rows with K[a, b], cropped to (Ho, Wo); dx is the same on d̃z (dz
    zero-padded by kh − 1 − top above, kh − 1 − bottom below, likewise across) with the flipped, transposed kernel
    K[kh − 1 − a, kw − 1 − b]ᵀ; dK = :func:`shifted_outer` of x̃'s rows with dz on x̃'s grid (zero elsewhere).
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
        self.pads = (top, bottom), (left, right) = self._pads(x)
        n, h, w, _ = x.shape
        self.padded_shape = (n, h + top + bottom, w + left + right, c)
        self.out_size = ho, wo = ((self.padded_shape[1] - kh) // s + 1) // p, ((self.padded_shape[2] - kw) // s + 1) // p
        if ho < 1 or wo < 1:
            raise ValueError(f"Conv2D: a {kh}×{kw} kernel with stride {s} and pool {p} leaves nothing of {x.shape}")
        self.rows = (s == 1 and p == 1 and c >= ROWS_MIN_CHANNELS
                     and self.padded_shape[1] * self.padded_shape[2] <= ROWS_MAX_GRID * ho * wo)
        if self.rows:
            self.grid = self._padded(x, np.result_type(x, K))
            return self._shifted("z", self.grid, K.reshape(kh * kw, c, f), kh, kw, self.out_size)
        padded = self._padded(x, x.dtype)
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

    def _padded(self, x: np.ndarray, dtype) -> np.ndarray:
        """x̃: x itself where nothing pads it, else x written into the interior of a zero-bordered buffer kept
        from step to step (its border is never written)."""
        if self.padded_shape == x.shape and x.flags.c_contiguous and x.dtype == dtype:
            return x
        (top, _), (left, _) = self.pads
        grid = self._buffer("padded", self.padded_shape, dtype, zeroed=True)
        grid[:, top:top + x.shape[1], left:left + x.shape[2]] = x
        return grid

    def _shifted(self, name: str, grid: np.ndarray, kernels: np.ndarray, kh: int, kw: int,
                 size: tuple[int, int]) -> np.ndarray:
        """:func:`shifted_products` of grid's rows with kernels (kh·kw, C, F) on the buffer ``name``, cropped to size
        (a fresh array)."""
        offsets, length = offsets_and_length(grid.shape, kh, kw)
        full = self._buffer(name, (*grid.shape[:3], kernels.shape[2]), grid.dtype)
        shifted_products(grid.reshape(-1, grid.shape[3]), kernels, offsets, full.reshape(-1, kernels.shape[2]), length)
        return full[:, :size[0], :size[1]].copy()

    def _input_grad(self, output_grad):
        if self.rows:
            return self._rows_input_grad(output_grad)
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

    def _rows_input_grad(self, output_grad):
        K = self.params["W"]
        kh, kw, c, f = K.shape
        (top, bottom), (left, right) = self.pads
        n, ho, wo, _ = output_grad.shape
        h, w = self.input.shape[1:3]
        grid = self._buffer("dz_padded", (n, h + kh - 1, w + kw - 1, f), output_grad.dtype, zeroed=True)
        grid[:, kh - 1 - top:kh - 1 - top + ho, kw - 1 - left:kw - 1 - left + wo] = output_grad
        # (kh·kw, F, C), contiguous: a view with negative strides reaches BLAS as a transposed operand, ~30 % slower
        flipped = np.ascontiguousarray(K[::-1, ::-1].transpose(0, 1, 3, 2)).reshape(kh * kw, f, c)
        return self._shifted("dx", grid, flipped, kh, kw, (h, w))

    def _param_grads(self, output_grad):
        K = self.params["W"]
        if self.rows:
            kh, kw, c, f = K.shape
            ho, wo = self.out_size
            grid = self._buffer("dz_grid", (*self.grid.shape[:3], f), output_grad.dtype, zeroed=True)
            grid[:, :ho, :wo] = output_grad
            offsets, length = offsets_and_length(grid.shape, kh, kw)
            return {"W": shifted_outer(self.grid.reshape(-1, c), grid.reshape(-1, f), offsets, length).reshape(K.shape)}
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
