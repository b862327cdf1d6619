"""The transposed convolution's conventions, shown on one layer (float64): its kernel layouts (torch (in, out, kh, kw),
Keras (kh, kw, out, in), the canonical one Keras's); torch's padding=1, output_padding=1 against Keras's
padding="same" (the same size, one pixel shifted: autoencoder's torch file runs padding=0 and crops as Keras does);
and scratch's Conv2DTranspose as the adjoint of the stride-2 'same' convolution, with its backward pass against
finite differences."""
from __future__ import annotations

import keras
import numpy as np
import torch
import torch.nn.functional as F

from parity_tests.helpers import operation_fd_errors
from scratch.conv import Conv2D, Conv2DTranspose
from torch_impl.convert import conv_transpose_from_canonical, conv_transpose_to_canonical
from torch_impl.layers import SameConvTranspose2d
from triptych.parity import max_abs

TOL = 1e-12
IN, OUT, K, SIDE = 4, 2, 3, 7


def _problem(seed=0):
    """x (N, 7, 7, in) NHWC and a canonical kernel (kh, kw, out, in)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, SIDE, SIDE, IN)), rng.normal(size=(K, K, OUT, IN))


def _keras(kernel, x):
    layer = keras.layers.Conv2DTranspose(OUT, K, strides=2, padding="same", use_bias=False, dtype="float64")
    layer.build((None, SIDE, SIDE, IN))
    layer.kernel.assign(kernel)
    return layer, keras.ops.convert_to_numpy(layer(x))


def _torch_weight(kernel):
    return conv_transpose_from_canonical({"t.W": torch.from_numpy(kernel), "t.b": torch.zeros(OUT)}, "t", "t")["t.weight"]


def _nhwc(t):
    return t.permute(0, 2, 3, 1).numpy()


def test_transposed_kernel_layouts_torch_in_out_kh_kw_keras_kh_kw_out_in():
    x, kernel = _problem()
    layer, expected = _keras(kernel, x)
    assert tuple(layer.kernel.shape) == (K, K, OUT, IN)
    torch_layer = torch.nn.ConvTranspose2d(IN, OUT, K, stride=2)
    assert tuple(torch_layer.weight.shape) == (IN, OUT, K, K)
    weight = _torch_weight(kernel)
    assert tuple(weight.shape) == (IN, OUT, K, K) and torch.equal(weight, torch.from_numpy(kernel).permute(3, 2, 0, 1))
    back = conv_transpose_to_canonical({"t.weight": weight, "t.bias": torch.zeros(OUT)}, "t", "t")["t.W"].numpy()
    assert np.array_equal(back, kernel)  # the round trip is exact
    ours = SameConvTranspose2d(IN, OUT, K, stride=2).double()
    ours.weight.data, ours.bias.data = weight, torch.zeros(OUT, dtype=torch.float64)
    with torch.no_grad():
        assert max_abs(_nhwc(ours(torch.from_numpy(x).permute(0, 3, 1, 2))), expected) <= TOL
    wrong = torch.from_numpy(kernel).permute(2, 3, 0, 1).contiguous()  # a conv's permutation read as (out, in, …)
    assert wrong.shape != weight.shape  # (out, in, kh, kw) does not even fit ConvTranspose2d's (in, out, kh, kw)


def test_torch_padding_1_output_padding_1_is_keras_same_shifted_by_one_pixel():
    """3×3, stride 2, 7 → 14: the full transposed convolution has (7 − 1)·2 + 3 = 15 rows.  Keras's padding="same"
    keeps rows 0…13 (same_padding(14, 3, 2) = (0, 1): nothing off the top); torch's padding=1 crops one row off each
    side and output_padding=1 adds one back at the bottom: rows 1…14.  The same 14 × 14, one pixel shifted."""
    x, kernel = _problem()
    _, expected = _keras(kernel, x)
    x_t, weight = torch.from_numpy(x).permute(0, 3, 1, 2), _torch_weight(kernel)
    with torch.no_grad():
        torch_recipe = _nhwc(F.conv_transpose2d(x_t, weight, stride=2, padding=1, output_padding=1))
        full = _nhwc(F.conv_transpose2d(x_t, weight, stride=2, padding=0))
    assert torch_recipe.shape == expected.shape == (2, 2 * SIDE, 2 * SIDE, OUT) and full.shape[1] == 2 * SIDE + 1
    assert max_abs(torch_recipe, expected) > 0.1  # not the same image
    assert max_abs(torch_recipe[:, :-1, :-1], expected[:, 1:, 1:]) <= TOL  # but the same one, shifted by a pixel
    assert max_abs(full[:, :2 * SIDE, :2 * SIDE], expected) <= TOL  # padding=0 and Keras's crop: Keras's image
    assert max_abs(full[:, 1:, 1:], torch_recipe) <= TOL


def test_scratch_transposed_convolution_is_the_adjoint_of_the_convolution():
    """⟨C u, x⟩ = ⟨u, Cᵀ x⟩ for the stride-2 'same' convolution C with kernel K (kh, kw, out, in) read as a conv kernel
    (kh, kw, in of C, out of C); and Cᵀ x is Keras's Conv2DTranspose."""
    x, kernel = _problem()
    u = np.random.default_rng(2).normal(size=(2, 2 * SIDE, 2 * SIDE, OUT))
    transposed = Conv2DTranspose(kernel.copy(), 2).forward(x)
    assert abs(np.sum(Conv2D(kernel, 2, "same").forward(u) * x) - np.sum(u * transposed)) <= 1e-10
    assert max_abs(transposed, _keras(kernel, x)[1]) <= TOL


def test_scratch_transposed_convolution_backward_matches_finite_differences():
    x, kernel = _problem()
    errors = operation_fd_errors(Conv2DTranspose(kernel.copy(), 2), x)
    assert max(errors.values()) <= 1e-6, errors
