"""The dense MNIST models: softmax regression (logits, softmax cross-entropy) and the MNIST MLP (raw outputs,
MSE against the one-hot label, SGD with momentum by default)."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.experiments import metrics
from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.parity import parity_weights


def _images(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28)), rng.integers(0, 10, n)


def test_mse_on_one_hot_is_the_mean_over_all_n_times_10_entries():
    """torch ``MSELoss`` (reduction "mean") averages all N·10 squared errors at once; Keras ``MeanSquaredError``
    averages the 10 of each sample, then divides the sum by N ("sum over batch size"): the same number.  A sum
    over the 10 outputs (the per-sample ‖p − y‖² of textbook derivations) would be 10 times larger."""
    import keras
    import torch

    rng = np.random.default_rng(0)
    p, labels = rng.normal(size=(6, 10)), rng.integers(0, 10, 6)
    onehot = np.eye(10)[labels]
    mean_all = np.mean((p - onehot) ** 2)
    assert torch.nn.MSELoss(reduction="none")(torch.from_numpy(p), torch.from_numpy(onehot)).shape == (6, 10)
    per_sample = np.asarray(keras.losses.MeanSquaredError(reduction=None, dtype="float64")(onehot, p))
    assert per_sample.shape == (6,) and np.allclose(per_sample, np.mean((p - onehot) ** 2, axis=1), rtol=1e-14)
    torch_value = torch.nn.MSELoss()(torch.from_numpy(p), torch.from_numpy(onehot)).item()
    assert torch_value == pytest.approx(mean_all, rel=1e-14)
    assert float(keras.losses.MeanSquaredError(dtype="float64")(onehot, p)) == pytest.approx(mean_all, rel=1e-14)
    assert np.sum((p - onehot) ** 2) / len(p) == pytest.approx(10 * mean_all, rel=1e-14)


def test_mnist_mlp_loss_takes_labels_and_is_the_mse_on_one_hot_in_every_framework():
    X, labels = _images(8)
    scratch = get_framework("scratch")
    weights = parity_weights(scratch, scratch.build("mnist_mlp", hidden=(16, 8)))
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("mnist_mlp", hidden=(16, 8))
        fw.set_weights(net, weights)
        outputs = fw.predict(net, X)
        expected = np.mean((outputs - np.eye(10)[labels]) ** 2)
        assert fw.loss_and_grads(net, X, labels)[0] == pytest.approx(expected, rel=1e-12), name
        assert metrics("mnist_mlp", outputs, labels)["loss"] == pytest.approx(expected, rel=1e-12), name


def test_mnist_mlp_predicts_raw_outputs_and_accuracy_is_their_argmax():
    """No softmax at the end: outputs are neither positive nor normalised; the test metrics are the training
    loss (MSE on one-hot, not a cross-entropy) and argmax accuracy."""
    scratch = get_framework("scratch")
    net = scratch.build("mnist_mlp")
    X, labels = _images(32)
    outputs = scratch.predict(net, X)
    assert outputs.shape == (32, 10) and (outputs < 0).any() and not np.allclose(outputs.sum(axis=1), 1)
    result = metrics("mnist_mlp", outputs, labels)
    assert result["accuracy"] == np.mean(outputs.argmax(axis=1) == labels)
    assert result["loss"] == pytest.approx(np.mean((outputs - np.eye(10)[labels]) ** 2), rel=1e-12)


def test_mnist_mlp_trains_with_the_recipes_momentum_unless_told_otherwise(fw):
    """The spec's training defaults carry momentum 0.9: ``train`` uses it with the default optimizer, an
    explicit ``momentum`` replaces it, and another optimizer does not receive it."""
    X, labels = _images(8)
    start = fw.get_weights(fw.build("mnist_mlp", hidden=(16,)))

    def trained(**kwargs):
        net = fw.build("mnist_mlp", hidden=(16,))
        fw.set_weights(net, start)
        fw.train(net, X, labels, epochs=1, batch_size=2, lr=0.01, **kwargs)
        return fw.get_weights(net)["output.W"]

    default, explicit, plain = trained(), trained(momentum=0.9), trained(momentum=0.0)
    assert np.array_equal(default, explicit) and not np.allclose(default, plain, rtol=0, atol=1e-9)
    assert trained(optimizer="adam").shape == default.shape


def test_flatten_is_row_major_in_every_framework():
    """Canonical row r·28 + c of the first kernel multiplies pixel (r, c), in all three (no permutation,
    unlike the CNN's channels)."""
    scratch = get_framework("scratch")
    weights = {k: np.zeros_like(v) for k, v in scratch.get_weights(scratch.build("softmax_reg")).items()}
    weights["output.W"][3 * 28 + 5, 7] = 1.0
    X, _ = _images(4)
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("softmax_reg")
        fw.set_weights(net, weights)
        outputs = fw.predict(net, X)
        assert np.array_equal(outputs[:, 7], X[:, 3, 5]) and not outputs[:, :7].any(), name

