"""The GRU three ways (float64) and the conventions that differ: outputs and gradients through time for
every weight and the input, finite differences for the scratch backward pass (the reference cell and the fast one), gate order (torch r, z, n;
Keras z, r, h), the reset gate after the recurrent matmul with two biases (torch; Keras reset_after=True),
reset_after=False as another model, biases that cannot be folded, and the canonical gate blocks."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.parity import max_abs, parity_problem, parity_weights
from triptych.registry import resolve
from parity_tests.helpers import keras_recurrent, operation_fd_errors, torch_recurrent
from scratch.ops import sigmoid
from scratch import recurrent
from scratch.fast import recurrent as fast_recurrent
from torch_impl.convert import swap_r_z

F_IN, UNITS = 5, 6
CELLS = pytest.mark.parametrize("cell", [recurrent.GRU, fast_recurrent.GRU], ids=["reference", "fast"])
U3 = slice(0, UNITS), slice(UNITS, 2 * UNITS), slice(2 * UNITS, 3 * UNITS)  # canonical blocks z, r, h


def _weights(seed=0):
    """Canonical W (F, 3u), U (u, 3u), b (2, 3u): blocks z, r, h; b[0] input bias, b[1] recurrent bias."""
    rng = np.random.default_rng(seed)
    return (rng.normal(scale=0.4, size=(F_IN, 3 * UNITS)), rng.normal(scale=0.4, size=(UNITS, 3 * UNITS)),
            rng.normal(scale=0.5, size=(2, 3 * UNITS)))


def _torch_gru(W, U, b):
    """nn.GRU holding canonical weights: transposed, blocks reordered z, r, h → r, z, n."""
    gru = torch.nn.GRU(F_IN, UNITS, batch_first=True).double()
    with torch.no_grad():
        for name, value in (("weight_ih_l0", W.T), ("weight_hh_l0", U.T), ("bias_ih_l0", b[0]), ("bias_hh_l0", b[1])):
            getattr(gru, name).copy_(swap_r_z(torch.from_numpy(np.ascontiguousarray(value))))
    return gru


def _scratch(x, R, return_sequences, weights, cell=recurrent.GRU):
    op = cell(*(w.copy() for w in weights), return_sequences)
    out = op.forward(x)
    dx = op.backward(R)
    return out, {**op.param_grads, "x": dx}


def _torch(x, R, return_sequences, weights):
    out, grads, dx = torch_recurrent(_torch_gru(*weights), x, R, return_sequences)
    return out, {"W": swap_r_z(grads["weight_ih_l0"]).T.numpy(), "U": swap_r_z(grads["weight_hh_l0"]).T.numpy(),
                 "b": np.stack([swap_r_z(grads["bias_ih_l0"]).numpy(), swap_r_z(grads["bias_hh_l0"]).numpy()]),
                 "x": dx}


def _keras(x, R, return_sequences, weights, reset_after=True):
    layer = keras.layers.GRU(UNITS, return_sequences=return_sequences, reset_after=reset_after, use_cudnn=False,
                             dtype="float64")
    return keras_recurrent(layer, weights, x, R)


def _sequence(seed=0, steps=5):
    return np.random.default_rng(seed).normal(size=(3, steps, F_IN))


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])
@pytest.mark.parametrize("steps", [1, 4, 28])
@CELLS
def test_gru_layer_outputs_and_gradients_through_time(steps, return_sequences, cell):
    rng = np.random.default_rng(steps)
    x = rng.normal(size=(3, steps, F_IN))
    R = rng.normal(size=(3, steps, UNITS) if return_sequences else (3, UNITS))
    out_s, grads_s = _scratch(x, R, return_sequences, _weights(), cell)
    assert set(grads_s) == {"W", "U", "b", "x"}
    for other in (_torch, _keras):
        out_o, grads_o = other(x, R, return_sequences, _weights())
        assert max_abs(out_s, out_o) <= 1e-12, other.__name__
        for key in grads_s:
            assert max_abs(grads_s[key], grads_o[key]) <= 1e-10, (other.__name__, key)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])
@CELLS
def test_scratch_gru_backward_matches_finite_differences(return_sequences, cell):
    errors = operation_fd_errors(cell(*_weights(), return_sequences), _sequence(7, 6))
    assert set(errors) == {"input", "W", "U", "b"}
    assert max(errors.values()) <= 1e-6, errors


def test_gate_order_torch_r_z_n_keras_z_r_h():
    """An update gate z = 1 keeps h at h₀ = 0 for ever.  A bias of +40 does that in torch's second block and
    in Keras's first; in the other's position the same bias opens the reset gate instead and h moves.
    torch's conversion to the canonical layout (z, r, h) moves its second block first."""
    x, W, U, b = _sequence(), *_weights()
    R = np.zeros((3, UNITS))

    def torch_out(block):
        gru = _torch_gru(W, U, b)
        with torch.no_grad():
            gru.bias_ih_l0[block] = 40.0
        return torch_recurrent(gru, x, R, False)[0]

    def keras_out(block):
        shut = b.copy()
        shut[0, block] = 40.0
        return _keras(x, R, False, (W, U, shut))[0]

    assert max(np.abs(torch_out(U3[1])).max(), np.abs(keras_out(U3[0])).max()) <= 1e-12  # z: torch's 2nd, Keras's 1st
    assert np.abs(torch_out(U3[0])).max() > 0.1 and np.abs(keras_out(U3[1])).max() > 0.1  # those are r
    torch_fw = get_framework("torch")
    net = torch_fw.build("gru", units=UNITS)
    with torch.no_grad():
        net.native.gru.bias_ih_l0.zero_()
        net.native.gru.bias_ih_l0[U3[1]] = 40.0
    assert np.all(torch_fw.get_weights(net)["gru.b"][0] == np.repeat([40.0, 0.0, 0.0], UNITS))


def test_keras_reset_after_true_is_torchs_gru():
    """Keras's default GRU (reset_after=True) has an input and a recurrent bias, shape (2, 3u), and resets
    after the recurrent matmul: n = tanh(x W_h + b_h + r ⊙ (h U_h + b'_h)), as torch does, so the two agree
    to rounding on the same weights."""
    layer = keras.layers.GRU(UNITS, use_cudnn=False, dtype="float64")
    layer.build((3, 5, F_IN))
    assert layer.cell.reset_after is True and tuple(layer.cell.bias.shape) == (2, 3 * UNITS)
    x, R = _sequence(), np.zeros((3, UNITS))
    assert max_abs(_keras(x, R, False, _weights())[0], _torch(x, R, False, _weights())[0]) <= 1e-12


def test_reset_after_false_is_another_model():
    """Keras reset_after=False resets before the matmul, n = tanh(x W_h + b_h + (r ⊙ h) U_h), with one
    bias (3u,): from the same kernels and input bias (recurrent bias zero in the reset_after=True model)
    its outputs differ.  Its formula, checked here by hand, is not torch's GRU."""
    x, R = _sequence(), np.zeros((3, 5, UNITS))
    W, U, b = _weights()
    b[1] = 0.0
    after = _keras(x, R, True, (W, U, b))[0]
    layer = keras.layers.GRU(UNITS, return_sequences=True, reset_after=False, use_cudnn=False, dtype="float64")
    before = keras_recurrent(layer, (W, U, b[0]), x, R)[0]
    assert tuple(layer.cell.bias.shape) == (3 * UNITS,)
    assert max_abs(after, _scratch(x, R, True, (W, U, b))[0]) <= 1e-12
    assert max_abs(before, after) > 1e-2
    h = np.zeros((3, UNITS))
    for t in range(x.shape[1]):  # reset_after=False by hand
        a = x[:, t] @ W + b[0]
        z, r = sigmoid(a[:, U3[0]] + h @ U[:, U3[0]]), sigmoid(a[:, U3[1]] + h @ U[:, U3[1]])
        h = z * h + (1 - z) * np.tanh(a[:, U3[2]] + (r * h) @ U[:, U3[2]])
        assert max_abs(before[:, t], h) <= 1e-12


def test_gru_biases_cannot_be_folded():
    """In every framework, through the API: the z and r blocks of the two biases enter as their sum, so
    folding them into the input bias changes nothing; the candidate's recurrent bias sits inside
    r ⊙ (h U_h + b'_h), and folding it too changes the output."""
    config = resolve("gru", {"units": UNITS})
    X, _ = parity_problem("gru", config, 8, seq_len=5)
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("gru", units=UNITS)
        weights = parity_weights(get_framework("scratch"), get_framework("scratch").build("gru", units=UNITS))
        weights["gru.b"][1] = np.random.default_rng(1).normal(scale=0.5, size=3 * UNITS)
        fw.set_weights(net, weights)
        reference = fw.predict(net, X)
        for blocks, same in (((U3[0], U3[1]), True), ((U3[0], U3[1], U3[2]), False)):
            folded = {k: v.copy() for k, v in weights.items()}
            for block in blocks:
                folded["gru.b"][0, block] += folded["gru.b"][1, block]
                folded["gru.b"][1, block] = 0.0
            fw.set_weights(net, folded)
            diff = max_abs(fw.predict(net, X), reference)
            assert (diff <= 1e-12) if same else (diff > 1e-3), (name, len(blocks), diff)


def test_canonical_gate_blocks_are_z_r_h():
    """The canonical layout's blocks mean the same in every framework: +40 on the first block of the input
    bias (z = 1) keeps h at 0, so the logits are the output bias; −40 on the second (r = 0) cuts the
    candidate off from h U_h + b'_h, so the third block of U and of the recurrent bias no longer matter."""
    config = resolve("gru", {"units": UNITS})
    X, _ = parity_problem("gru", config, 8, seq_len=5)
    scratch = get_framework("scratch")
    weights = parity_weights(scratch, scratch.build("gru", units=UNITS))
    weights["gru.b"][1] = np.random.default_rng(1).normal(scale=0.5, size=3 * UNITS)
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("gru", units=UNITS)
        frozen = {k: v.copy() for k, v in weights.items()}
        frozen["gru.b"][0, U3[0]] = 40.0
        fw.set_weights(net, frozen)
        assert max_abs(fw.predict(net, X), np.broadcast_to(weights["output.b"], (8, 10))) <= 1e-12, name
        reset = {k: v.copy() for k, v in weights.items()}
        reset["gru.b"][0, U3[1]] = -40.0
        fw.set_weights(net, reset)
        reference = fw.predict(net, X)
        reset["gru.U"][:, U3[2]] += 1.0
        reset["gru.b"][1, U3[2]] += 1.0
        fw.set_weights(net, reset)
        assert max_abs(fw.predict(net, X), reference) <= 1e-12, name
        reset["gru.U"][:, U3[0]] += 1.0  # while the update gate's block still matters
        fw.set_weights(net, reset)
        assert max_abs(fw.predict(net, X), reference) > 1e-3, name


@CELLS
def test_scratch_gru_checks_its_weights_and_input(cell):
    W, U, b = _weights()
    with pytest.raises(ValueError, match=r"b \(2, 18\)"):
        cell(W, U, b[0])
    with pytest.raises(ValueError, match=r"expects input \(N, T, 5\)"):
        cell(W, U, b).forward(np.zeros((3, 4, 7)))
