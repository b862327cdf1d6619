"""Conventions of the dense models that differ between frameworks: BCE at the extremes,
initialisers, dropout."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.parity import max_abs
from scratch.ops import Dropout


def test_bce_at_extreme_probabilities():
    """Output logit z ≈ 40, target 0: scratch clips p to 1 − 1e-7 (loss −log 1e-7 = 16.118); torch BCELoss
    clamps log(1 − p) = log 0 at −100 (loss 100); Keras sees the sigmoid's logits and returns softplus(z) ≈ 40."""
    scratch = get_framework("scratch")
    base = scratch.build("xor")
    w = scratch.get_weights(base)
    w["output.b"][:] = 40.0
    X, y = np.array([[0.0, 0.0]]), np.array([[0.0]])
    z = float((np.tanh(X @ w["hidden1.W"] + w["hidden1.b"]) @ w["output.W"] + w["output.b"])[0, 0])
    losses = {}
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("xor")
        fw.set_weights(net, w)
        assert fw.predict(net, X)[0, 0] == 1.0  # the probability itself rounds to 1 in float64
        losses[name] = fw.loss_and_grads(net, X, y)[0]
    assert losses["scratch"] == pytest.approx(-np.log(1.0 - (1.0 - 1e-7)), rel=1e-12)
    assert losses["torch"] == pytest.approx(100.0)
    assert losses["keras"] == pytest.approx(np.logaddexp(0.0, z), rel=1e-12)


INITS = {  # name: (std as a function of fan_in, fan_out, uniform?)
    "glorot_uniform": (lambda i, o: np.sqrt(2 / (i + o)), True),
    "glorot_normal": (lambda i, o: np.sqrt(2 / (i + o)), False),
    "he_uniform": (lambda i, o: np.sqrt(2 / i), True),
    "he_normal": (lambda i, o: np.sqrt(2 / i), False),
}


@pytest.mark.parametrize("init", INITS)
def test_initialisers_have_the_documented_spread(fw, init):
    fan_in, fan_out = 400, 300
    std_of, uniform = INITS[init]
    w = fw.get_weights(fw.build("house_mlp", in_features=fan_in, hidden=(fan_out,), init=init))
    kernel, std = w["hidden1.W"], std_of(fan_in, fan_out)
    assert kernel.std() == pytest.approx(std, rel=0.03)
    assert not w["hidden1.b"].any()
    if uniform:  # U(−a, a) with a = √3·σ
        assert np.abs(kernel).max() <= np.sqrt(3) * std and np.abs(kernel).max() > 0.99 * np.sqrt(3) * std
    elif fw.name == "keras":  # Keras truncates its normals at 2σ of the underlying normal
        assert np.abs(kernel).max() <= 2 * std / 0.87962566103423978 + 1e-12
    else:
        assert np.abs(kernel).max() > 3 * std


def test_default_initialisers_differ():
    """torch's default Linear init is kaiming-uniform a=√5 (limit 1/√fan_in); Keras/scratch Glorot-uniform."""
    t = get_framework("torch").get_weights(get_framework("torch").build("house_mlp", in_features=400, hidden=(300,)))
    k = get_framework("keras").get_weights(get_framework("keras").build("house_mlp", in_features=400, hidden=(300,)))
    assert np.abs(t["hidden1.W"]).max() <= 1 / np.sqrt(400) and np.abs(t["hidden1.b"]).max() > 0
    assert np.abs(k["hidden1.W"]).max() > 1 / np.sqrt(400) and not k["hidden1.b"].any()


def test_dropout_keeps_1_minus_p_and_scales_by_its_inverse():
    import keras
    import torch

    p, x = 0.3, np.ones((200, 500))
    outputs = {
        "scratch": Dropout(p, np.random.default_rng(0)).forward(x),
        "torch": torch.nn.Dropout(p).train()(torch.from_numpy(x)).numpy(),
        "keras": np.asarray(keras.layers.Dropout(p, seed=0, dtype="float64")(x, training=True)),
    }
    for name, out in outputs.items():
        kept = out != 0
        assert kept.mean() == pytest.approx(1 - p, abs=0.005), name
        assert np.allclose(out[kept], 1 / (1 - p)), name
    assert np.array_equal(torch.nn.Dropout(p).eval()(torch.from_numpy(x)).numpy(), x)
    assert np.array_equal(np.asarray(keras.layers.Dropout(p, dtype="float64")(x, training=False)), x)


def test_dropout_models_agree_in_evaluation_mode():
    scratch = get_framework("scratch")
    nets = {f: get_framework(f).build("house_mlp", dropout=0.3) for f in FRAMEWORKS}
    w = scratch.get_weights(nets["scratch"])
    X = np.random.default_rng(1).normal(size=(16, 13))
    outs = {}
    for f, net in nets.items():
        get_framework(f).set_weights(net, w)
        outs[f] = get_framework(f).predict(net, X)
    assert max_abs(outs["scratch"], outs["torch"]) <= 1e-12 and max_abs(outs["scratch"], outs["keras"]) <= 1e-12


def test_scratch_dropout_backward_matches_finite_differences():
    rng = np.random.default_rng(2)
    op = Dropout(0.4, rng)
    op.shared_mask = rng.random((5, 7)) >= 0.4
    x = rng.normal(size=(5, 7))
    weights = rng.normal(size=(5, 7))
    op.forward(x)
    grad = op.backward(weights)
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1e-6
        numeric[idx] = ((op.forward(x + e) * weights).sum() - (op.forward(x - e) * weights).sum()) / 2e-6
    assert np.max(np.abs(numeric - grad)) / np.max(np.abs(grad)) <= 1e-6
