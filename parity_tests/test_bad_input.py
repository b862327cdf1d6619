"""Bad input gives a clear ValueError naming what was expected and what was given."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.frameworks import get_framework
from triptych.data import xor_data


def test_unknown_model_and_framework():
    with pytest.raises(ValueError, match=r"unknown framework 'jax'.*scratch, torch, keras"):
        get_framework("jax")
    with pytest.raises(ValueError, match=r"unknown model 'resnet'.*xor, linreg"):
        get_framework("scratch").build("resnet")


def test_unknown_override(fw):
    with pytest.raises(ValueError, match=r"'xor' has no option 'widht'"):
        fw.build("xor", widht=3)


def test_wrong_input_width(fw):
    net = fw.build("linreg")
    with pytest.raises(ValueError, match=r"linreg: input X has shape \(5, 3\), expected \(N, 2\)"):
        fw.predict(net, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"expected \(N, 2\)"):
        fw.predict(net, np.zeros(5))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_inf_in_X_or_y(fw, bad):
    X, y = xor_data()
    net = fw.build("xor")
    Xb = X.copy()
    Xb[1, 1] = bad
    with pytest.raises(ValueError, match="NaN/inf"):
        fw.train(net, Xb, y, epochs=1)
    yb = y.copy()
    yb[2] = bad
    with pytest.raises(ValueError, match="NaN/inf"):
        fw.loss_and_grads(net, X, yb)


def test_y_of_wrong_shape(fw):
    X, y = xor_data()
    net = fw.build("xor")
    with pytest.raises(ValueError, match=r"targets y have shape \(4, 2\), expected \(4, 1\) or \(4,\)"):
        fw.loss_and_grads(net, X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"targets y have shape \(3, 1\)"):
        fw.train(net, X, y[:3], epochs=1)


def test_weights_missing_extra_misshaped(fw):
    net = fw.build("xor")
    good = get_framework("scratch").get_weights(get_framework("scratch").build("xor"))
    missing = {k: v for k, v in good.items() if k != "output.b"}
    with pytest.raises(ValueError, match=r"xor: .*missing output\.b \(1,\)"):
        fw.set_weights(net, missing)
    with pytest.raises(ValueError, match=r"unexpected 'extra\.W'"):
        fw.set_weights(net, {**good, "extra.W": np.zeros(3)})
    with pytest.raises(ValueError, match=r"parameter 'hidden1\.W' has shape \(10, 2\), expected \(2, 10\)"):
        fw.set_weights(net, {**good, "hidden1.W": good["hidden1.W"].T})
    before = fw.get_weights(net)
    with pytest.raises(ValueError):
        fw.set_weights(net, {**good, "output.W": np.full((10, 1), np.nan)})
    after = fw.get_weights(net)
    assert all(np.array_equal(before[k], after[k]) for k in before), "a rejected set_weights changed the net"


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0.0), "learning rate must be a positive number"),
    (dict(lr=-1.0), "learning rate must be a positive number"),
    (dict(batch_size=0), "batch_size must be a positive integer or None"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(optimizer="adagrad"), "unknown optimizer 'adagrad'"),
    (dict(optimizer="sgd", beta_1=0.5), "optimizer 'sgd' takes no option 'beta_1'"),
])
def test_bad_training_arguments(scratch, kwargs, message):
    X, y = xor_data()
    with pytest.raises(ValueError, match=message):
        scratch.train(scratch.build("xor"), X, y, **kwargs)


def test_net_of_another_framework(scratch, torch_fw):
    with pytest.raises(ValueError, match="built by 'torch'"):
        scratch.predict(torch_fw.build("xor"), np.zeros((1, 2)))


def test_wrong_dtype_name(scratch):
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        scratch.build("xor", dtype="float16")


def test_bad_images_sequences_and_labels(fw):
    """MNIST models: images must be (N, 28, 28), sequences (N, T, 28), labels whole numbers 0..9."""
    cnn, lstm = fw.build("mnist_cnn", filters=(2, 3)), fw.build("lstm", units=3)
    X, y = np.zeros((2, 28, 28)), np.array([3, 7])
    before = fw.get_weights(cnn)
    with pytest.raises(ValueError, match=r"mnist_cnn: input X has shape \(2, 27, 28\), expected \(N, 28, 28\)"):
        fw.train(cnn, X[:, 1:], y, epochs=1)
    with pytest.raises(ValueError, match=r"mnist_cnn: input X has shape \(2, 784\)"):
        fw.predict(cnn, X.reshape(2, -1))
    with pytest.raises(ValueError, match=r"labels y must lie in 0\.\.9, got values in 3\.\.10"):
        fw.train(cnn, X, np.array([3, 10]), epochs=1)
    with pytest.raises(ValueError, match=r"labels y must be whole numbers 0\.\.9"):
        fw.loss_and_grads(cnn, X, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"labels y have shape \(2, 1\), expected \(2,\)"):
        fw.loss_and_grads(cnn, X, y.reshape(2, 1))
    assert all(np.array_equal(before[k], v) for k, v in fw.get_weights(cnn).items())  # nothing was lost
    with pytest.raises(ValueError, match=r"lstm: input X has shape \(2, 5, 27\), expected \(N, T, 28\)"):
        fw.predict(lstm, np.zeros((2, 5, 27)))
    with pytest.raises(ValueError, match=r"lstm: input X has shape \(2, 0, 28\)"):
        fw.predict(lstm, np.zeros((2, 0, 28)))
    assert fw.predict(lstm, np.zeros((2, 5, 28))).shape == (2, 10)  # any sequence length
