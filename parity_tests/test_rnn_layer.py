"""The simple tanh RNN layer three ways (float64): outputs and gradients through time for every weight
and for the input sequence, last-state and return-sequence variants, several sequence lengths; finite
differences for the scratch backward pass (the reference cell and the fast one); and torch's second bias, which must stay frozen."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

from triptych.parity import max_abs
from parity_tests.helpers import keras_recurrent, operation_fd_errors, torch_recurrent, torch_second_bias_runs
from scratch import recurrent
from scratch.fast import recurrent as fast_recurrent

F_IN, UNITS = 5, 6
CELLS = pytest.mark.parametrize("cell", [recurrent.SimpleRNN, fast_recurrent.SimpleRNN], ids=["reference", "fast"])


def _weights(seed=0):
    """W (F, u), U (u, u), b (u,)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(scale=0.4, size=(F_IN, UNITS)), rng.normal(scale=0.4, size=(UNITS, UNITS)),
            rng.normal(scale=0.3, size=UNITS))


def _scratch(cell, x, R, return_sequences):
    op = cell(*(w.copy() for w in _weights()), return_sequences)
    out = op.forward(x)
    dx = op.backward(R)
    return out, {**op.param_grads, "x": dx}


def _torch(x, R, return_sequences):
    W, U, b = _weights()
    rnn = torch.nn.RNN(F_IN, UNITS, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(W.T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(U.T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    out, grads, dx = torch_recurrent(rnn, x, R, return_sequences)
    assert max_abs(grads["bias_ih_l0"], grads["bias_hh_l0"]) <= 1e-12  # the two biases get one gradient
    return out, {"W": grads["weight_ih_l0"].T.numpy(), "U": grads["weight_hh_l0"].T.numpy(),
                 "b": grads["bias_ih_l0"].numpy(), "x": dx}


def _keras(x, R, return_sequences):
    layer = keras.layers.SimpleRNN(UNITS, return_sequences=return_sequences, dtype="float64")
    return keras_recurrent(layer, _weights(), x, R)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])
@pytest.mark.parametrize("steps", [1, 4, 28])
@CELLS
def test_rnn_layer_outputs_and_gradients_through_time(steps, return_sequences, cell):
    rng = np.random.default_rng(steps)
    x = rng.normal(size=(3, steps, F_IN))
    R = rng.normal(size=(3, steps, UNITS) if return_sequences else (3, UNITS))
    out_s, grads_s = _scratch(cell, x, R, return_sequences)
    assert set(grads_s) == {"W", "U", "b", "x"}
    for other in (_torch, _keras):
        out_o, grads_o = other(x, R, return_sequences)
        assert max_abs(out_s, out_o) <= 1e-12, other.__name__
        for key in grads_s:
            assert max_abs(grads_s[key], grads_o[key]) <= 1e-10, (other.__name__, key)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])
@CELLS
def test_scratch_rnn_backward_matches_finite_differences(return_sequences, cell):
    x = np.random.default_rng(7).normal(size=(3, 6, F_IN))
    errors = operation_fd_errors(cell(*_weights(), return_sequences), x)
    assert set(errors) == {"input", "W", "U", "b"}
    assert max(errors.values()) <= 1e-6, errors


def test_torch_second_bias_must_stay_frozen():
    """As in the LSTM: torch's RNN adds b_ih + b_hh and gives both the same gradient, so training both
    moves the sum twice as fast as Keras's one bias.  Frozen (our choice) the SGD trajectories agree."""
    start, expected, runs = torch_second_bias_runs("rnn", UNITS)
    assert max_abs(runs[True], expected) <= 1e-12
    assert max_abs(runs[False], expected) > 1e-3
    assert np.linalg.norm(runs[False] - start) > 1.5 * np.linalg.norm(expected - start)  # roughly twice as far
