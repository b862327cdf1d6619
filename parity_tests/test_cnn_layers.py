"""Conventions of the convnet that differ between frameworks, shown layer by layer (float64):
kernel layouts, flatten order, 'valid' and 'same' padding (where TensorFlow puts the extra pixel and
how torch matches it with explicit padding), max-pool floor on odd sizes; and finite differences
for the scratch conv, pool and flatten backward passes.  The scratch convolution is checked in both
implementations: the reference (scratch/conv.py) and the fast one with the pool fused in
(scratch/fast/conv.py; parity_tests/test_scratch_kernels.py proves the two equal)."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import torch.nn.functional as F

from triptych.parity import max_abs
from parity_tests.helpers import operation_fd_errors
from scratch.conv import Conv2D, Flatten, MaxPool2D, same_padding
from scratch.fast import conv as fast_conv
from torch_impl.convert import chw_to_hwc_columns

TOL = 1e-12
CONVS = pytest.mark.parametrize("conv2d", [Conv2D, fast_conv.Conv2D], ids=["reference", "fast"])


def _images(n=2, h=7, w=7, c=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, h, w, c))


def _kernel(k=3, c_in=3, c_out=4, seed=1):
    return np.random.default_rng(seed).normal(size=(k, k, c_in, c_out))


def _torch_conv(x_nhwc, kernel_hwio, stride=1, padding=0):
    """torch wants NCHW images and (out, in, kh, kw) kernels; the answer comes back as NHWC."""
    x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2)
    w = torch.from_numpy(kernel_hwio).permute(3, 2, 0, 1)
    return F.conv2d(x, w, stride=stride, padding=padding).permute(0, 2, 3, 1).numpy()


def _keras_conv(x, kernel, stride=1, padding="valid"):
    layer = keras.layers.Conv2D(kernel.shape[3], kernel.shape[:2], strides=stride, padding=padding, use_bias=False,
                                dtype="float64")
    layer.build(x.shape)
    layer.kernel.assign(kernel)
    return np.asarray(layer(x))


@CONVS
def test_kernel_layouts_and_valid_padding(conv2d):
    """Canonical/Keras kernels are (kh, kw, in, out); torch's are (out, in, kh, kw): permute (3, 2, 0, 1)."""
    x, kernel = _images(), _kernel()
    ours = conv2d(kernel).forward(x)
    assert ours.shape == (2, 5, 5, 4)
    assert max_abs(ours, _torch_conv(x, kernel)) <= TOL
    assert max_abs(ours, _keras_conv(x, kernel)) <= TOL
    # the same numbers in torch's layout without the permutation are a different convolution
    wrong = torch.from_numpy(kernel).reshape(4, 3, 3, 3)
    assert not np.allclose(F.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), wrong).permute(0, 2, 3, 1).numpy(), ours)


def test_flatten_order_hwc_vs_chw():
    """Keras and scratch flatten (H, W, C); torch flattens (C, H, W).  A dense layer after the flatten
    agrees only once torch's weight columns are reordered (chw_to_hwc_columns)."""
    x = _images(h=5, w=5, c=4)
    dense = np.random.default_rng(3).normal(size=(5 * 5 * 4, 10))  # canonical rows (H, W, C)
    ours = Flatten().forward(x) @ dense
    flat_keras = np.asarray(keras.layers.Flatten(dtype="float64")(x))
    assert max_abs(flat_keras @ dense, ours) <= TOL
    flat_torch = torch.flatten(torch.from_numpy(x).permute(0, 3, 1, 2), 1)
    naive = (flat_torch @ torch.from_numpy(dense)).numpy()
    assert max_abs(naive, ours) > 1.0  # the same rows in (C, H, W) order: wrong
    torch_weight = torch.from_numpy(dense.T)  # nn.Linear stores (out, in)
    reordered = torch.from_numpy(np.ascontiguousarray(dense.T.reshape(10, 5, 5, 4).transpose(0, 3, 1, 2).reshape(10, -1)))
    assert max_abs((flat_torch @ reordered.T).numpy(), ours) <= TOL
    assert torch.equal(chw_to_hwc_columns(reordered, 4), torch_weight)


@CONVS
@pytest.mark.parametrize("size", [6, 7])
@pytest.mark.parametrize("stride", [1, 2])
def test_same_padding_matches_tensorflow(size, stride, conv2d):
    """TF's 'same': output ⌈size/stride⌉, total padding (out − 1)·s + k − size, the extra pixel after.
    torch matches it with F.pad(left, right, top, bottom) then a 'valid' convolution."""
    x, kernel = _images(h=size, w=size), _kernel()
    before, after = same_padding(size, 3, stride)
    ours = conv2d(kernel, stride, "same").forward(x)
    assert ours.shape[1:3] == (-(-size // stride),) * 2
    assert max_abs(ours, _keras_conv(x, kernel, stride, "same")) <= TOL
    padded = np.pad(x, ((0, 0), (before, after), (before, after), (0, 0)))
    assert max_abs(ours, _torch_conv(padded, kernel, stride)) <= TOL
    if stride == 1:  # torch's own padding="same" exists for stride 1 only
        assert max_abs(ours, _torch_conv(x, kernel, 1, "same")) <= TOL


def test_same_padding_stride_2_even_size_puts_the_extra_pixel_after():
    """size 6, k 3, s 2: TF pads 0 before and 1 after; torch's symmetric padding=1 gives the same shape
    but different numbers, and torch refuses padding='same' with stride 2."""
    assert same_padding(6, 3, 2) == (0, 1)
    assert same_padding(7, 3, 2) == (1, 1)
    x, kernel = _images(h=6, w=6), _kernel()
    tf_same = _keras_conv(x, kernel, 2, "same")
    symmetric = _torch_conv(x, kernel, 2, 1)
    assert symmetric.shape == tf_same.shape and max_abs(symmetric, tf_same) > 0.1
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        _torch_conv(x, kernel, 2, "same")


@pytest.mark.parametrize("size", [7, 8])
def test_max_pool_floor_on_odd_sizes(size):
    """2×2 pooling of 7×7 gives 3×3 in all three (the last row and column are dropped) and their
    gradient is zero; forward and backward agree with torch and TensorFlow."""
    x = _images(h=size, w=size)
    upstream = np.random.default_rng(4).normal(size=(2, size // 2, size // 2, 3))
    op = MaxPool2D(2)
    ours = op.forward(x)
    ours_grad = op.backward(upstream)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).requires_grad_(True)
    yt = F.max_pool2d(xt, 2)
    yt.backward(torch.from_numpy(upstream).permute(0, 3, 1, 2))
    assert max_abs(ours, yt.detach().permute(0, 2, 3, 1).numpy()) <= TOL
    assert max_abs(ours_grad, xt.grad.permute(0, 2, 3, 1).numpy()) <= TOL
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        yk = keras.layers.MaxPooling2D(2, dtype="float64")(xk)
    assert max_abs(ours, yk.numpy()) <= TOL
    assert max_abs(ours_grad, tape.gradient(yk, xk, output_gradients=tf.constant(upstream)).numpy()) <= TOL
    if size % 2:
        assert ours.shape[1:3] == (3, 3)
        assert not ours_grad[:, -1].any() and not ours_grad[:, :, -1].any()


@pytest.mark.parametrize("op", [
    Conv2D(_kernel()), Conv2D(_kernel(), 2, "same"), Conv2D(_kernel(k=2, c_in=3, c_out=2), 1, "same"), MaxPool2D(2),
    Flatten(), fast_conv.Conv2D(_kernel()), fast_conv.Conv2D(_kernel(), 2, "same"), fast_conv.Conv2D(_kernel(), pool=2),
    fast_conv.Conv2D(_kernel(), 2, "same", pool=2),
], ids=["conv-valid", "conv-same-stride2", "conv-same-even-kernel", "maxpool", "flatten", "fast-conv-valid",
        "fast-conv-same-stride2", "fast-conv-pool", "fast-conv-same-stride2-pool"])
def test_scratch_cnn_operations_match_finite_differences(op):
    errors = operation_fd_errors(op, _images(h=7, w=7))
    assert max(errors.values()) <= 1e-6, errors
