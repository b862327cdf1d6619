"""The LSTM layer three ways (float64): outputs and gradients through time for every weight and for
the input sequence, last-state and return-sequence variants, several sequence lengths; finite
differences for the scratch backward pass; and torch's second bias, which must stay frozen."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from triptych.frameworks import get_framework
from triptych.parity import max_abs, parity_problem, parity_weights
from triptych.registry import resolve
from parity_tests.helpers import operation_fd_errors
from scratch.recurrent import LSTM

F_IN, UNITS = 5, 6


def _weights(seed=0):
    """W (F, 4u), U (u, 4u), b (4u,) with a non-trivial forget-gate bias (gates i, f, g, o)."""
    rng = np.random.default_rng(seed)
    b = rng.normal(scale=0.3, size=4 * UNITS)
    b[UNITS:2 * UNITS] += 1.0
    return rng.normal(scale=0.4, size=(F_IN, 4 * UNITS)), rng.normal(scale=0.4, size=(UNITS, 4 * UNITS)), b


def _scratch(x, R, return_sequences):
    W, U, b = _weights()
    op = LSTM(W.copy(), U.copy(), b.copy(), return_sequences)
    out = op.forward(x)
    dx = op.backward(R)
    return out, {"W": op.param_grads["W"], "U": op.param_grads["U"], "b": op.param_grads["b"], "x": dx}


def _torch(x, R, return_sequences):
    W, U, b = _weights()
    lstm = torch.nn.LSTM(F_IN, UNITS, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(W.T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(U.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b))
        lstm.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_(True)
    seq, (h_last, _) = lstm(xt)
    out = seq if return_sequences else h_last[-1]
    (out * torch.from_numpy(R)).sum().backward()
    assert max_abs(lstm.bias_ih_l0.grad, lstm.bias_hh_l0.grad) <= 1e-12  # the two biases get one gradient
    return out.detach().numpy(), {"W": lstm.weight_ih_l0.grad.T.numpy(), "U": lstm.weight_hh_l0.grad.T.numpy(),
                                  "b": lstm.bias_ih_l0.grad.numpy(), "x": xt.grad.numpy()}


def _keras(x, R, return_sequences):
    W, U, b = _weights()
    layer = keras.layers.LSTM(UNITS, return_sequences=return_sequences, use_cudnn=False, dtype="float64")
    layer.build(x.shape)
    for variable, value in zip((layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias), (W, U, b)):
        variable.assign(value)
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        out = layer(xk)
        loss = tf.reduce_sum(out * R)
    grads = tape.gradient(loss, [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias, xk])
    return out.numpy(), dict(zip(("W", "U", "b", "x"), (g.numpy() for g in grads)))


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])
@pytest.mark.parametrize("steps", [1, 4, 28])
def test_lstm_layer_outputs_and_gradients_through_time(steps, return_sequences):
    rng = np.random.default_rng(steps)
    x = rng.normal(size=(3, steps, F_IN))
    R = rng.normal(size=(3, steps, UNITS) if return_sequences else (3, UNITS))
    out_s, grads_s = _scratch(x, R, return_sequences)
    for other in (_torch, _keras):
        out_o, grads_o = other(x, R, return_sequences)
        assert max_abs(out_s, out_o) <= 1e-12, other.__name__
        for key in grads_s:
            assert max_abs(grads_s[key], grads_o[key]) <= 1e-10, (other.__name__, key)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])
def test_scratch_lstm_backward_matches_finite_differences(return_sequences):
    W, U, b = _weights()
    x = np.random.default_rng(7).normal(size=(3, 6, F_IN))
    errors = operation_fd_errors(LSTM(W, U, b, return_sequences), x)
    assert set(errors) == {"input", "W", "U", "b"}
    assert max(errors.values()) <= 1e-6, errors


def test_torch_second_bias_must_stay_frozen():
    """torch adds b_ih + b_hh and gives both the same gradient: training both moves the effective
    bias twice as fast as Keras's single bias.  Frozen (our choice) the SGD trajectories agree;
    unfrozen they split."""
    scratch, torch_fw = get_framework("scratch"), get_framework("torch")
    overrides = dict(units=UNITS)
    X, y = parity_problem("lstm", resolve("lstm", overrides), 16, seq_len=5)
    reference = scratch.build("lstm", **overrides)
    w0 = parity_weights(scratch, reference)
    runs = {}
    for frozen in (True, False):
        net = torch_fw.build("lstm", **overrides)
        torch_fw.set_weights(net, w0)
        bias_hh = net.native.lstm.bias_hh_l0
        if frozen:  # build froze it; the test does not
            assert not bias_hh.requires_grad and not bias_hh.any()
        else:  # what a stock torch LSTM does
            bias_hh.requires_grad_(True)
        torch_fw.train(net, X, y, epochs=5, batch_size=4, lr=0.5, optimizer="sgd", seed=0)
        runs[frozen] = torch_fw.get_weights(net)["lstm.b"]
        if frozen:
            assert not bias_hh.requires_grad and not bias_hh.any()  # still zero after training
    scratch.set_weights(reference, w0)
    scratch.train(reference, X, y, epochs=5, batch_size=4, lr=0.5, optimizer="sgd", seed=0)
    expected = scratch.get_weights(reference)["lstm.b"]
    assert max_abs(runs[True], expected) <= 1e-12
    assert max_abs(runs[False], expected) > 1e-3
    moved_ours, moved_torch = expected - w0["lstm.b"], runs[False] - w0["lstm.b"]
    assert np.linalg.norm(moved_torch) > 1.5 * np.linalg.norm(moved_ours)  # roughly twice as far
