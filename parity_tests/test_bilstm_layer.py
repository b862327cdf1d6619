"""The bidirectional LSTM three ways (float64) and its two conventions.

- scratch's :class:`~scratch.recurrent.Bidirectional` (reference and fast cells), torch's
  ``nn.LSTM(bidirectional=True)`` and Keras's ``Bidirectional(LSTM)``: outputs, every weight's gradient and the
  input's, last-state and return-sequence variants; finite differences for scratch's backward pass.
- Keras: ``LSTM(go_backwards=True)`` returns its sequence in reversed time; ``Bidirectional`` flips it back, so
  both halves of step t belong to step t.  Left reversed, the model is another one.
- torch: h_n is (layers × 2, N, H) in the order [l1 forward, l1 backward, l2 forward, l2 backward]; the output
  sequence concatenates [forward, backward] per step, so h_n[-2] is out[:, -1, :H] and h_n[-1] is out[:, 0, H:].
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from parity_tests.helpers import operation_fd_errors
from scratch import recurrent
from scratch.fast import recurrent as fast_recurrent
from triptych.parity import max_abs

F_IN, UNITS, N = 4, 5, 3
CELLS = pytest.mark.parametrize("cell", [recurrent.LSTM, fast_recurrent.LSTM], ids=["reference", "fast"])
SEQUENCES = pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])


def _weights(seed, n_in=F_IN):
    """(W (F, 4u), U (u, 4u), b (4u,)) for one direction, gates i, f, g, o, forget bias near 1."""
    rng = np.random.default_rng(seed)
    b = rng.normal(scale=0.3, size=4 * UNITS)
    b[UNITS:2 * UNITS] += 1.0
    return rng.normal(scale=0.4, size=(n_in, 4 * UNITS)), rng.normal(scale=0.4, size=(UNITS, 4 * UNITS)), b


DIRECTIONS = {"forward": _weights(1), "backward": _weights(2)}


def _scratch(cell, x, R, return_sequences):
    op = recurrent.Bidirectional(*(cell(*(w.copy() for w in DIRECTIONS[side]), return_sequences=return_sequences)
                                   for side in ("forward", "backward")))
    out = op.forward(x)
    dx = op.backward(R)
    return out, {**op.param_grads, "x": dx}


def _torch_lstm(num_layers=1, directions=DIRECTIONS, n_in=F_IN):
    lstm = torch.nn.LSTM(n_in, UNITS, num_layers=num_layers, bidirectional=True, batch_first=True).double()
    with torch.no_grad():
        for suffix, (W, U, b) in zip(("_l0", "_l0_reverse"), directions.values()):
            getattr(lstm, "weight_ih" + suffix).copy_(torch.from_numpy(W.T))
            getattr(lstm, "weight_hh" + suffix).copy_(torch.from_numpy(U.T))
            getattr(lstm, "bias_ih" + suffix).copy_(torch.from_numpy(b))
            getattr(lstm, "bias_hh" + suffix).zero_()
    return lstm


def _torch(x, R, return_sequences):
    lstm = _torch_lstm()
    xt = torch.from_numpy(x).requires_grad_(True)
    seq, (h_n, _) = lstm(xt)
    out = seq if return_sequences else torch.cat([h_n[0], h_n[1]], dim=1)
    (out * torch.from_numpy(R)).sum().backward()
    grads = {}
    for side, suffix in (("forward", "_l0"), ("backward", "_l0_reverse")):
        p = dict(lstm.named_parameters())
        grads.update({f"{side}.W": p["weight_ih" + suffix].grad.T.numpy(), f"{side}.U": p["weight_hh" + suffix].grad.T.numpy(),
                      f"{side}.b": p["bias_ih" + suffix].grad.numpy()})
        assert max_abs(p["bias_ih" + suffix].grad, p["bias_hh" + suffix].grad) <= 1e-12  # one gradient for the pair
    return out.detach().numpy(), {**grads, "x": xt.grad.numpy()}


def _keras_layer(return_sequences):
    layer = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=return_sequences, use_cudnn=False,
                                                         dtype="float64"), dtype="float64")
    layer.build((N, None, F_IN))
    for side, lstm in (("forward", layer.forward_layer), ("backward", layer.backward_layer)):
        for variable, value in zip((lstm.cell.kernel, lstm.cell.recurrent_kernel, lstm.cell.bias), DIRECTIONS[side]):
            variable.assign(value)
    return layer


def _keras(x, R, return_sequences):
    layer = _keras_layer(return_sequences)
    variables = {f"{side}.{key}": v for side, lstm in (("forward", layer.forward_layer), ("backward", layer.backward_layer))
                 for key, v in zip("WUb", (lstm.cell.kernel, lstm.cell.recurrent_kernel, lstm.cell.bias))}
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        out = layer(xk)
        loss = tf.reduce_sum(out * R)
    grads = tape.gradient(loss, [*variables.values(), xk])
    return out.numpy(), dict(zip([*variables, "x"], (g.numpy() for g in grads)))


@SEQUENCES
@pytest.mark.parametrize("steps", [1, 6])
@CELLS
def test_bidirectional_lstm_outputs_and_gradients_three_ways(steps, return_sequences, cell):
    rng = np.random.default_rng(steps)
    x = rng.normal(size=(N, steps, F_IN))
    R = rng.normal(size=(N, steps, 2 * UNITS) if return_sequences else (N, 2 * UNITS))
    out_s, grads_s = _scratch(cell, x, R, return_sequences)
    assert set(grads_s) == {"forward.W", "forward.U", "forward.b", "backward.W", "backward.U", "backward.b", "x"}
    for other in (_torch, _keras):
        out_o, grads_o = other(x, R, return_sequences)
        assert max_abs(out_s, out_o) <= 1e-12, other.__name__
        for key in grads_s:
            assert max_abs(grads_s[key], grads_o[key]) <= 1e-10, (other.__name__, key)


@SEQUENCES
@CELLS
def test_scratch_bidirectional_backward_matches_finite_differences(return_sequences, cell):
    op = recurrent.Bidirectional(*(cell(*(w.copy() for w in DIRECTIONS[side]), return_sequences=return_sequences)
                                   for side in ("forward", "backward")))
    errors = operation_fd_errors(op, np.random.default_rng(7).normal(size=(N, 5, F_IN)))
    assert set(errors) == {"input", "forward.W", "forward.U", "forward.b", "backward.W", "backward.U", "backward.b"}
    assert max(errors.values()) <= 1e-6, errors


def test_keras_go_backwards_returns_reversed_time_and_bidirectional_flips_it_back():
    """The backward half of Bidirectional's step t is the go_backwards copy's output at position T − t: the copy
    alone returns its sequence in the order it read it (x_T first), and Bidirectional re-reverses it.  The
    backward cell's state after reading x_T..x_t (scratch's, on the time-reversed input) is what lands at step t."""
    x = np.random.default_rng(3).normal(size=(N, 6, F_IN))
    bidirectional = np.asarray(_keras_layer(True)(x))
    copy = keras.layers.LSTM(UNITS, return_sequences=True, go_backwards=True, use_cudnn=False, dtype="float64")
    copy.build(x.shape)
    for variable, value in zip((copy.cell.kernel, copy.cell.recurrent_kernel, copy.cell.bias), DIRECTIONS["backward"]):
        variable.assign(value)
    reversed_time = np.asarray(copy(x))
    assert max_abs(bidirectional[..., UNITS:], reversed_time[:, ::-1]) <= 1e-15
    assert max_abs(bidirectional[..., UNITS:], reversed_time) > 1e-2  # not re-reversed: another sequence
    backward_cell = recurrent.LSTM(*DIRECTIONS["backward"], return_sequences=True)
    assert max_abs(reversed_time, backward_cell.forward(x[:, ::-1])) <= 1e-12  # go_backwards = read x reversed
    last = np.asarray(_keras_layer(False)(x))
    assert max_abs(last[:, UNITS:], reversed_time[:, -1]) <= 1e-15  # the final backward state: after x_1


def test_torch_h_n_is_layers_times_two_and_the_sequence_concatenates_directions_per_step():
    x = torch.from_numpy(np.random.default_rng(4).normal(size=(N, 6, F_IN)))
    stacked = _torch_lstm(num_layers=2)
    with torch.no_grad():
        seq, (h_n, c_n) = stacked(x)
        assert tuple(h_n.shape) == tuple(c_n.shape) == (2 * 2, N, UNITS) and tuple(seq.shape) == (N, 6, 2 * UNITS)
        assert max_abs(h_n[-2], seq[:, -1, :UNITS]) == 0  # top layer, forward, after x_T
        assert max_abs(h_n[-1], seq[:, 0, UNITS:]) == 0  # top layer, backward, after x_1
        assert max_abs(h_n[-1], seq[:, -1, UNITS:]) > 1e-2  # the last step's backward half is not its final state
        first, (h_first, _) = _torch_lstm(num_layers=1)(x)  # the same layer-1 weights alone
        assert max_abs(h_n[:2], h_first) == 0  # h_n[0], h_n[1]: layer 1 forward, backward
    forward_cell = recurrent.LSTM(*DIRECTIONS["forward"], return_sequences=True)
    assert max_abs(first.numpy()[..., :UNITS], forward_cell.forward(x.numpy())) <= 1e-12
