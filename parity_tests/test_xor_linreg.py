"""XOR and linear regression: what each framework learns from the default seed, and the summaries."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.data import LINREG_TRUE_B, LINREG_TRUE_W, linreg_data, xor_data


def test_xor_has_41_parameters_everywhere(fw):
    net = fw.build("xor")
    rows = fw.summary(net)
    assert fw.parameter_count(net) == 41
    assert [r[2] for r in rows if r[3]] == [(10,), (1,)]  # output shapes of the two Dense layers


def test_xor_learns_all_four_points(fw):
    X, y = xor_data()
    net = fw.build("xor", seed=0)
    history = fw.train(net, X, y)  # spec defaults: SGD 0.1, batch 1, 200 epochs
    p = fw.predict(net, X).ravel()
    assert p[0] < 0.5 and p[3] < 0.5 and p[1] > 0.5 and p[2] > 0.5, p
    assert history["loss"][-1] < history["loss"][0]


def test_linreg_recovers_w_and_b(fw):
    X, y = linreg_data()
    net = fw.build("linreg", seed=0)
    history = fw.train(net, X, y, epochs=3, batch_size=10, lr=0.03)
    w = fw.get_weights(net)
    assert len(history["loss"]) == 300
    assert np.max(np.abs(w["linear.W"].ravel() - LINREG_TRUE_W)) < 0.01
    assert abs(w["linear.b"][0] - LINREG_TRUE_B) < 0.01


def test_linreg_full_batch_from_zeros_on_any_width(fw):
    """User data of width 3, 1-D targets, full-batch gradient descent from all-zero weights."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([0.5, -1.0, 2.0]) - 0.3  # (N,) is accepted and reshaped
    net = fw.build("linreg", in_features=3, init="zeros")
    assert all(not v.any() for v in fw.get_weights(net).values())
    history = fw.train(net, X, y, epochs=300, batch_size=None, lr=0.1)
    assert len(history["loss"]) == 300
    w = fw.get_weights(net)
    assert np.allclose(w["linear.W"].ravel(), [0.5, -1.0, 2.0], atol=1e-3)
    assert abs(w["linear.b"][0] + 0.3) < 1e-3


def test_same_seed_same_batches_same_result(scratch):
    X, y = linreg_data(100)
    a, b = scratch.build("linreg", seed=3), scratch.build("linreg", seed=3)
    ha = scratch.train(a, X, y, epochs=2, batch_size=7, seed=11)
    hb = scratch.train(b, X, y, epochs=2, batch_size=7, seed=11)
    assert ha["loss"] == hb["loss"]
    hc = scratch.train(scratch.build("linreg", seed=3), X, y, epochs=2, batch_size=7, seed=12)
    assert hc["loss"] != ha["loss"]


@pytest.mark.parametrize("model", ["xor", "linreg"])
def test_dense_layout_differs_torch_out_in_keras_in_out(model, torch_fw, keras_fw):
    """Convention: torch Linear.weight is (out, in); Keras Dense.kernel is (in, out) = canonical."""
    t, k = torch_fw.build(model), keras_fw.build(model)
    first_torch = next(p for n, p in t.native.named_parameters() if n.endswith("weight"))
    first_keras = k.native.layers[0].kernel
    n_in = 2
    assert tuple(first_keras.shape)[0] == n_in and tuple(first_torch.shape)[1] == n_in
    assert tuple(first_torch.shape) == tuple(first_keras.shape)[::-1]
