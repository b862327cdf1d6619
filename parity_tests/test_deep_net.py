"""The L-layer network on breast cancer: the split, the notebook idiom behind the scratch interface, the
canonical layout (torch's weight as it is, the Keras kernel transposed), and the default recipe's run."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.data import breast_cancer_data
from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.parity import max_abs, parity_weights
from triptych.registry import MODELS
from scratch import deep_net as notebook


def test_split_is_stratified_and_standardised_on_training_rows():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    a, b, c, d = breast_cancer_data()
    assert a.shape == (398, 30) and b.shape == (171, 30) and c.shape == (398, 1) and d.shape == (171, 1)
    assert np.array_equal(c.ravel(), y_tr) and np.array_equal(d.ravel(), y_te)
    assert abs(c.mean() - y.mean()) < 1 / 398 and abs(d.mean() - y.mean()) < 1 / 171  # stratified
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    assert np.allclose(a, (X_tr - mean) / std) and np.allclose(b, (X_te - mean) / std)
    assert np.allclose(a.mean(axis=0), 0) and not np.allclose(b.mean(axis=0), 0, atol=1e-3)


def test_scratch_is_the_notebook_idiom_behind_the_framework_interface(scratch):
    """A parameters dict W1…W4 (n_l, n_{l−1}), b1…b4 (n_l, 1); examples as columns inside; params() hands out
    that very dict, so set_weights and the optimizer write into the notebook's arrays."""
    net = scratch.build("deep_net")
    parameters = net.native.parameters
    assert {k: v.shape for k, v in parameters.items()} == {
        "W1": (20, 30), "b1": (20, 1), "W2": (7, 20), "b2": (7, 1),
        "W3": (5, 7), "b3": (5, 1), "W4": (1, 5), "b4": (1, 1)}
    assert net.native.params() is parameters
    X, y = breast_cancer_data()[0][:10], breast_cancer_data()[2][:10]
    AL, caches = notebook.L_model_forward(X.T, parameters)
    (A_prev, W, _), Z = caches[0]  # each layer's cache: its linear cache (A_prev, W, b) and Z
    assert AL.shape == (1, 10) and len(caches) == 4 and np.array_equal(A_prev, X.T) and W is parameters["W1"]
    assert np.array_equal(scratch.predict(net, X), AL.T)
    grads = notebook.L_model_backward(AL, y.T, caches)
    assert grads["dA0"].shape == (30, 10) and grads["dW1"].shape == (20, 30) and grads["db1"].shape == (20, 1)
    weights = parity_weights(scratch, net)
    scratch.set_weights(net, weights)
    assert np.array_equal(parameters["b2"], weights["b2"])


def test_canonical_is_torch_weight_as_is_and_the_keras_kernel_transposed():
    scratch = get_framework("scratch")
    weights = parity_weights(scratch, scratch.build("deep_net"))
    torch_fw, keras_fw = get_framework("torch"), get_framework("keras")
    t, k = torch_fw.build("deep_net"), keras_fw.build("deep_net")
    torch_fw.set_weights(t, weights)
    keras_fw.set_weights(k, weights)
    state, layer = t.native.state_dict(), k.native.get_layer("layer1")
    assert np.array_equal(state["linear1.weight"].numpy(), weights["W1"])
    assert np.array_equal(state["linear1.bias"].numpy(), weights["b1"].ravel())
    assert np.array_equal(layer.kernel.numpy(), weights["W1"].T)
    assert np.array_equal(layer.bias.numpy(), weights["b1"].ravel())


def test_cost_is_unclipped_so_confident_rows_keep_their_gradient():
    """Output logit 20 on a positive row (p = 1 − 2.1e-9): torch (BCELoss guards only at 1e-12) and Keras (the
    sigmoid's logits) give db4 = p − 1; so does deep_net's scratch cost, unclipped like the notebook's.  The
    clip to [1e-7, 1 − 1e-7] of the other scratch models would give 0 there."""
    from scratch.losses import BinaryCrossEntropy

    scratch = get_framework("scratch")
    weights = {k: np.zeros_like(v) for k, v in scratch.get_weights(scratch.build("deep_net")).items()}
    weights["b4"][:] = 20.0
    X, y = breast_cancer_data()[0][:4], np.ones((4, 1))
    expected = 1 / (1 + np.exp(-20.0)) - 1
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("deep_net")
        fw.set_weights(net, weights)
        assert fw.loss_and_grads(net, X, y)[1]["b4"][0, 0] == pytest.approx(expected, rel=1e-6), name
    clipped = BinaryCrossEntropy()
    clipped.forward(np.full((4, 1), 1 + expected), y)
    assert not clipped.backward().any()


def test_he_initialisation_in_every_framework(fw):
    """Default init He normal: std √(2 / fan_in), zero biases (Keras truncates at 2σ and rescales)."""
    w = fw.get_weights(fw.build("deep_net", in_features=400, hidden=(300,)))
    assert w["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.03) and not w["b1"].any()


def test_other_optimizers_agree_with_torch(scratch, torch_fw):
    """Plain gradient descent runs the notebook's update_parameters; momentum and Adam use scratch's optimizers."""
    X, _, y, _ = breast_cancer_data()
    start = parity_weights(scratch, scratch.build("deep_net"))
    for options in (dict(momentum=0.9, nesterov=True), dict(optimizer="adam", lr=1e-3)):
        final = {}
        for fw in (scratch, torch_fw):
            net = fw.build("deep_net")
            fw.set_weights(net, start)
            fw.train(net, X, y, epochs=20, **{"lr": 0.0075, **options})
            final[fw.name] = fw.get_weights(net)
        assert max(max_abs(final["scratch"][k], final["torch"][k]) for k in start) <= 1e-12, options
        assert max_abs(final["scratch"]["W1"], start["W1"]) > 1e-4


@pytest.mark.slow
def test_default_recipe_trajectories_are_equal_in_float64():
    """2,500 full-batch gradient-descent steps on the 398 training rows from the same initial weights:
    per-step losses and final weights agree to 1e-9 in every pair, and so do the test predictions."""
    X, X_test, y, _ = breast_cancer_data()
    scratch = get_framework("scratch")
    start = scratch.get_weights(scratch.build("deep_net", seed=MODELS["deep_net"].training["seed"]))
    runs = {}
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("deep_net")
        fw.set_weights(net, start)
        history = fw.train(net, X, y)
        runs[name] = (np.array(history["loss"]), fw.get_weights(net), fw.predict(net, X_test))
        print(f"\ndeep_net · {name}: {len(history['loss'])} steps in {history['seconds']:.1f} s")
    for a, b in [("scratch", "torch"), ("scratch", "keras"), ("torch", "keras")]:
        losses, weights = max_abs(runs[a][0], runs[b][0]), max(max_abs(runs[a][1][k], runs[b][1][k]) for k in start)
        print(f"deep_net float64 {a}↔{b}: losses {losses:.2e}, final weights {weights:.2e}")
        assert len(runs[a][0]) == 2500 and losses <= 1e-9 and weights <= 1e-9
        assert max_abs(runs[a][2], runs[b][2]) <= 1e-9
