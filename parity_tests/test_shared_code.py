"""Shared code that the three frameworks cannot check against each other (a bug in it is the same bug
in all three, so parity stays green): the sampler, input validation, the canonical layouts and their
conversions, the data loaders and the parity measures, each against an independent statement of what
it must do."""
from __future__ import annotations

import math

import numpy as np
import pytest

from triptych import mnist, options
from triptych.batching import epoch_batches, steps_per_epoch
from triptych.canonical import layout
from triptych.data import LINREG_TRUE_B, LINREG_TRUE_W, linreg_data, xor_data
from triptych.frameworks import OPTIMIZER_OPTIONS, get_framework
from triptych.parity import max_abs, max_rel, run_ladder, worst
from triptych.registry import MODELS, get_spec, resolve
from triptych.validate import check_y
from parity_tests.helpers import idx_bytes

# ---------------------------------------------------------------- the sampler


@pytest.mark.parametrize("n, batch", [(10, 3), (7, 7), (100, 10), (5, 1)])
def test_sampler_is_the_documented_permutation(n, batch):
    """Epoch e of seed s: default_rng([s, e]).permutation(n) cut into consecutive batches."""
    for seed in (0, 7):
        for epoch in range(3):
            order = np.random.default_rng([seed, epoch]).permutation(n) if batch < n else np.arange(n)
            expected = [order[i:i + batch] for i in range(0, n, batch)]
            got = epoch_batches(n, batch, seed, epoch)
            assert len(got) == len(expected) == steps_per_epoch(n, batch)
            assert all(np.array_equal(a, b) for a, b in zip(got, expected))


def test_sampler_order_changes_between_epochs_and_seeds_and_covers_every_row():
    orders = {(seed, epoch): np.concatenate(epoch_batches(50, 8, seed, epoch)) for seed in (0, 1) for epoch in (0, 1, 2)}
    for order in orders.values():
        assert np.array_equal(np.sort(order), np.arange(50))  # every row once per epoch
    assert not np.array_equal(orders[(0, 0)], orders[(0, 1)])  # epoch e and e + 1 differ
    assert not np.array_equal(orders[(0, 1)], orders[(0, 2)])
    assert not np.array_equal(orders[(0, 0)], orders[(1, 0)])  # seeds differ
    assert [len(b) for b in epoch_batches(50, 8, 0, 0)] == [8] * 6 + [2]  # the last batch is smaller
    assert [b.tolist() for b in epoch_batches(4, None, 3, 5)] == [[0, 1, 2, 3]]  # full batch: rows in order
    assert [b.tolist() for b in epoch_batches(4, 9, 3, 5)] == [[0, 1, 2, 3]]


def test_every_framework_trains_on_the_samplers_batches(fw):
    """With a learning rate so small that the weights do not move, each step's loss is the loss of the
    sampler's batch for that step: every framework trains on exactly those batches, in that order."""
    X, y = linreg_data(40)
    scratch = get_framework("scratch")
    net = fw.build("linreg", dtype="float64")
    weights = scratch.get_weights(scratch.build("linreg"))
    fw.set_weights(net, weights)
    losses = fw.train(net, X, y, epochs=2, batch_size=8, lr=1e-12, seed=5)["loss"]
    prediction = X @ weights["linear.W"] + weights["linear.b"]
    expected = [float(np.mean((prediction[idx] - y[idx]) ** 2)) for e in range(2) for idx in epoch_batches(40, 8, 5, e)]
    assert np.allclose(losses, expected, rtol=1e-9)


# ---------------------------------------------------------------- validation


def test_binary_targets_must_lie_in_0_1_and_regression_targets_need_not():
    config = resolve("xor")
    for good in ([0, 1, 1, 0], [0.0, 0.5, 1.0, 0.25], [[1], [1], [1], [1]]):
        assert check_y("xor", config, good, 4, "float64").shape == (4, 1)
    for bad in ([0, 1, 1, 1.0000001], [-1e-12, 0, 1, 1], [0, 2, 0, 0]):
        with pytest.raises(ValueError, match=r"binary targets y must lie in \[0, 1\]"):
            check_y("xor", config, bad, 4, "float64")
    assert check_y("linreg", resolve("linreg"), [-5, 0, 2, 1e6], 4, "float64").ravel().tolist() == [-5, 0, 2, 1e6]


def test_every_option_has_a_rule():
    """Every optimizer option any optimizer declares has a rule; every built-in model rules every key."""
    for optimizer, names in OPTIMIZER_OPTIONS.items():
        assert set(names) <= set(options.OPTIMIZER_OPTION_RULES), optimizer
    for model in MODELS:
        spec = get_spec(model)
        assert set(spec.rules) == set(spec.arch), model


def test_a_rule_less_option_is_checked_against_its_default():
    rule_int, rule_str, rule_tuple = options.like(3), options.like("relu"), options.like((4, 5))
    assert rule_int("m", "k", np.int32(7)) == 7 and rule_tuple("m", "k", [1, 2]) == (1, 2)
    assert options.like(0.5)("m", "k", 2) == 2.0 and options.like(None)("m", "k", "anything") == "anything"
    for rule, value in ((rule_int, 2.5), (rule_int, True), (rule_str, 3), (rule_tuple, "ab")):
        with pytest.raises(ValueError, match="model 'm': option 'k' must be"):
            rule("m", "k", value)


# ---------------------------------------------------------------- canonical layouts


LAYOUTS = {  # the README's table, with the default configuration: name → shape, in order
    "xor": {"hidden1.W": (2, 10), "hidden1.b": (10,), "output.W": (10, 1), "output.b": (1,)},
    "linreg": {"linear.W": (2, 1), "linear.b": (1,)},
    "house_mlp": {"hidden1.W": (13, 13), "hidden1.b": (13,), "hidden2.W": (13, 13), "hidden2.b": (13,),
                  "output.W": (13, 1), "output.b": (1,)},
    "mnist_cnn": {"conv1.W": (3, 3, 1, 32), "conv1.b": (32,), "conv2.W": (3, 3, 32, 64), "conv2.b": (64,),
                  "output.W": (5 * 5 * 64, 10), "output.b": (10,)},
    "lstm": {"lstm.W": (28, 256), "lstm.U": (64, 256), "lstm.b": (256,), "output.W": (64, 10), "output.b": (10,)},
}
PARAMETERS = {"xor": 41, "linreg": 3, "house_mlp": 378, "mnist_cnn": 34_826, "lstm": 24_458}


@pytest.mark.parametrize("model", LAYOUTS)
def test_canonical_layout_is_the_documented_one(model, fw):
    config = resolve(model)
    assert [(k, shape) for k, (shape, _) in layout(model, config).items()] == list(LAYOUTS[model].items())
    assert sum(math.prod(s) for s in LAYOUTS[model].values()) == PARAMETERS[model]
    net = fw.build(model)
    weights = fw.get_weights(net)
    assert list(weights) == list(LAYOUTS[model]) and {k: v.shape for k, v in weights.items()} == LAYOUTS[model]
    assert fw.parameter_count(net) == PARAMETERS[model]


def _distinct(shape, offset=0):
    """An array whose every entry is different: its position, counted in C order."""
    return np.arange(offset, offset + math.prod(shape), dtype=np.float64).reshape(shape)


TORCH_DENSE = {"xor": {"hidden1": "hidden.0", "output": "output"}, "linreg": {"linear": "linear"},
               "house_mlp": {"hidden1": "hidden.0", "hidden2": "hidden.1", "output": "output"},
               "lstm": {"output": "output"}, "mnist_cnn": {}}
SMALL = {"mnist_cnn": dict(filters=(2, 3), image_size=(16, 18)), "lstm": dict(units=3)}


@pytest.mark.parametrize("model", LAYOUTS)
def test_torch_layout_entry_by_entry(model):
    """Each canonical entry lands where the conventions say: Linear weight[o, i] = W[i, o]; Conv2d
    weight[o, c, h, w] = W[h, w, c, o]; the dense rows after a flatten move from (H, W, C) order to
    (C, H, W); LSTM weight_ih = Wᵀ, weight_hh = Uᵀ, bias_ih = b, bias_hh = 0.  And back, bit for bit."""
    torch_fw = get_framework("torch")
    config = resolve(model, SMALL.get(model))
    weights = {k: _distinct(shape, 1000 * i) for i, (k, (shape, _)) in enumerate(layout(model, config).items())}
    net = torch_fw.build(model, dtype="float64", **SMALL.get(model, {}))
    torch_fw.set_weights(net, weights)
    state = {k: v.detach().numpy() for k, v in net.native.state_dict().items()}
    for name, torch_name in TORCH_DENSE[model].items():
        if not (model == "mnist_cnn" and name == "output"):
            assert np.array_equal(state[f"{torch_name}.weight"], weights[f"{name}.W"].T), name
            assert np.array_equal(state[f"{torch_name}.bias"], weights[f"{name}.b"]), name
    if model == "mnist_cnn":
        for name in ("conv1", "conv2"):
            W = weights[f"{name}.W"]
            for o, c, i, j in np.ndindex(state[f"{name}.weight"].shape):
                assert state[f"{name}.weight"][o, c, i, j] == W[i, j, c, o]
        h, w, c = 2, 3, 3  # 16 → conv 14 → pool 7 → conv 5 → pool 2;  18 → 16 → 8 → 6 → 3;  3 filters
        for o, ch, y, x in np.ndindex(10, c, h, w):
            assert state["output.weight"][o, ch * h * w + y * w + x] == weights["output.W"][(y * w + x) * c + ch, o]
    if model == "lstm":
        assert np.array_equal(state["lstm.weight_ih_l0"], weights["lstm.W"].T)
        assert np.array_equal(state["lstm.weight_hh_l0"], weights["lstm.U"].T)
        assert np.array_equal(state["lstm.bias_ih_l0"], weights["lstm.b"]) and not state["lstm.bias_hh_l0"].any()
    assert all(np.array_equal(v, weights[k]) for k, v in torch_fw.get_weights(net).items())


@pytest.mark.parametrize("model", LAYOUTS)
def test_keras_canonical_variables_are_every_weight_once(model, keras_fw):
    """canonical_variables names each of the model's variables exactly once, in the layout's shapes."""
    net = keras_fw.build(model, **SMALL.get(model, {}))
    variables = get_spec(model).module("keras").canonical_variables(net.native)
    shapes = {k: s for k, (s, _) in layout(model, net.config).items()}
    assert list(variables) == list(shapes) and all(tuple(v.shape) == shapes[k] for k, v in variables.items())
    assert sorted(id(v) for v in variables.values()) == sorted(id(v) for v in net.native.weights)
    weights = {k: _distinct(s, 1000 * i) for i, (k, s) in enumerate(shapes.items())}
    keras_fw.set_weights(net, weights)
    assert all(np.array_equal(variables[k].numpy(), weights[k]) for k in shapes)


def test_torch_conversion_helpers_follow_their_index_formulas():
    import torch

    from torch_impl.convert import chw_to_hwc_columns, hwc_to_chw_columns

    C, H, W, out = 3, 2, 4, 5
    matrix = torch.from_numpy(_distinct((out, C * H * W)))
    moved = chw_to_hwc_columns(matrix, C).numpy()
    for c, s in np.ndindex(C, H * W):  # column c·HW + s moves to s·C + c
        assert np.array_equal(moved[:, s * C + c], matrix.numpy()[:, c * H * W + s])
    assert torch.equal(hwc_to_chw_columns(torch.from_numpy(moved), C), matrix)


# ---------------------------------------------------------------- data loaders


def test_xor_and_linreg_data_are_what_the_docs_say():
    X, y = xor_data()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.ravel().tolist() == [0, 1, 1, 0]
    X, y = linreg_data(500, seed=3)
    rng = np.random.default_rng(3)
    X_expected = rng.normal(size=(500, 2))
    noise = rng.normal(scale=0.01, size=500)
    assert np.array_equal(X, X_expected)
    assert np.allclose(y.ravel(), X_expected @ LINREG_TRUE_W + LINREG_TRUE_B + noise, rtol=0, atol=1e-12)
    assert X.shape == (500, 2) and y.shape == (500, 1)


def test_read_idx_returns_exactly_the_bytes(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28))
    (tmp_path / "x.idx").write_bytes(idx_bytes(images))
    got = mnist.read_idx(tmp_path / "x.idx")
    assert got.dtype == np.uint8 and np.array_equal(got, images)
    assert np.array_equal(mnist.scale_pixels(got), images / 255.0)


# ---------------------------------------------------------------- parity measures


def test_parity_measures_fail_on_nan_or_inf_wherever_it_is():
    a = {"first.W": np.zeros(3), "middle.W": np.zeros(3), "last.b": np.zeros(2)}
    for key in a:
        for bad in (np.nan, np.inf):
            b = {k: v.copy() for k, v in a.items()}
            b[key][-1] = bad
            value, where = worst(a, b, max_abs)
            assert not value <= 1e300 and where == key, (key, bad, value)
            assert not worst(b, a, max_rel)[0] <= 1e300
    assert math.isinf(max_abs(np.zeros((3, 1)), np.zeros(3)))  # no broadcasting
    assert math.isinf(worst(a, {k: v for k, v in a.items() if k != "last.b"}, max_abs)[0])  # a missing array
    assert max_abs([1.0, 2.0], [1.0, 2.5]) == 0.5 and max_rel([2.0, 4.0], [2.0, 3.0]) == 0.25


def test_a_nan_in_the_last_parameter_fails_the_ladder(monkeypatch):
    """torch's training puts a NaN into the last canonical parameter (output.b): rungs 4 and 5 fail."""
    import torch

    torch_fw = get_framework("torch")
    real_train = type(torch_fw)._train

    def poisoned(self, net, X, y, plan):
        history = real_train(self, net, X, y, plan)
        with torch.no_grad():
            net.native.output.bias[-1] = float("nan")
        return history

    monkeypatch.setattr(type(torch_fw), "_train", poisoned)
    assert list(layout("xor", resolve("xor")))[-1] == "output.b"
    results = run_ladder("xor", frameworks=["scratch", "torch"], rungs=(1, 4, 5))
    verdicts = {r.rung: r.passed for r in results}
    assert verdicts == {1: True, 4: False, 5: False}, [(r.rung, r.value, r.detail) for r in results]
    assert all("output.b" in r.detail for r in results if r.rung in (4, 5))


def test_the_ladder_fails_just_above_its_tolerance_and_passes_just_below(monkeypatch):
    """A rung passes at value ≤ tolerance and fails above it: torch's outputs moved by 2× and 0.5× the
    float64 forward tolerance."""
    from triptych.tolerances import TOLERANCES

    torch_fw = get_framework("torch")
    real_predict = type(torch_fw)._predict
    tolerance = TOLERANCES["float64"][1][0]
    for factor, verdict in ((2.0, False), (0.5, True)):
        monkeypatch.setattr(type(torch_fw), "_predict", lambda self, net, X, f=factor: real_predict(self, net, X)
                            + f * tolerance)
        (result,) = run_ladder("xor", frameworks=["scratch", "torch"], rungs=(1,))
        assert result.passed is verdict and result.value == pytest.approx(factor * tolerance, rel=1e-3), result


# ---------------------------------------------------------------- scratch's corner cases, against torch and Keras
# (the random parity problems never reach them: exact zeros, ties, probabilities beyond the clip)


def test_relu_gradient_at_zero_is_zero_as_in_torch_and_keras():
    import tensorflow as tf
    import torch

    from scratch.ops import ReLU

    x = np.array([[-1.0, 0.0, 0.0, 2.0]])
    ours = ReLU()
    ours.forward(x)
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.relu(xt).sum().backward()
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        yk = tf.reduce_sum(tf.nn.relu(xk))
    for other in (xt.grad.numpy(), tape.gradient(yk, xk).numpy()):
        assert np.array_equal(ours.backward(np.ones_like(x)), other)
    assert ours.backward(np.ones_like(x)).tolist() == [[0.0, 0.0, 0.0, 1.0]]


def test_max_pool_routes_a_tie_to_the_first_maximum_as_torch_and_tensorflow_do():
    """After a ReLU, windows of equal values (zeros) are common: the gradient goes to the first maximum
    in row-major order, once."""
    import tensorflow as tf
    import torch
    import torch.nn.functional as F

    from scratch.conv import MaxPool2D

    x = np.zeros((1, 4, 4, 1))
    x[0, 0, 1, 0] = x[0, 1, 0, 0] = 1.0  # top-left window: a tie between (0, 1) and (1, 0)
    upstream = np.arange(1.0, 5.0).reshape(1, 2, 2, 1)
    op = MaxPool2D(2)
    op.forward(x)
    ours = op.backward(upstream)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).requires_grad_(True)
    F.max_pool2d(xt, 2).backward(torch.from_numpy(upstream).permute(0, 3, 1, 2))
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        yk = tf.nn.max_pool2d(xk, 2, 2, "VALID")
    expected = np.zeros((4, 4))
    expected[0, 1], expected[0, 2], expected[2, 0], expected[2, 2] = 1.0, 2.0, 3.0, 4.0
    assert np.array_equal(ours[0, :, :, 0], expected)
    assert np.array_equal(xt.grad.permute(0, 2, 3, 1).numpy(), ours)
    assert np.array_equal(tape.gradient(yk, xk, output_gradients=tf.constant(upstream)).numpy(), ours)


def test_bce_gradient_is_zero_where_the_probability_is_clipped_as_in_keras():
    """dL/dp = (p − y) / (p (1 − p)) / N inside [1e-7, 1 − 1e-7]; 0 outside, where Keras's clip stops it."""
    import keras
    import tensorflow as tf

    from scratch.losses import BinaryCrossEntropy

    p = np.array([[1e-9], [0.3], [1 - 1e-9], [0.8]])
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    loss = BinaryCrossEntropy()
    loss.forward(p, y)
    ours = loss.backward()
    expected = np.where((p > 1e-7) & (p < 1 - 1e-7), (p - y) / (p * (1 - p)), 0.0) / 4
    assert np.allclose(ours, expected, rtol=1e-12, atol=0) and ours[0, 0] == 0.0 and ours[2, 0] == 0.0
    pk = tf.constant(p)
    with tf.GradientTape() as tape:
        tape.watch(pk)
        lk = keras.losses.BinaryCrossentropy()(tf.constant(y), pk)
    assert np.allclose(tape.gradient(lk, pk).numpy(), ours, rtol=1e-6, atol=1e-12)


def test_dropout_scales_the_kept_units_by_1_over_1_minus_p_as_torch_and_keras_do():
    """Inverted dropout in all three: a kept unit is x / (1 − p), a dropped one 0; identity in evaluation."""
    import keras
    import torch

    from scratch.ops import Dropout

    x, p = np.arange(1.0, 201.0).reshape(2, 100), 0.25
    op = Dropout(p, np.random.default_rng(0))
    op.training = True
    ours = op.forward(x)
    torch_out = torch.nn.functional.dropout(torch.from_numpy(x), p, training=True).numpy()
    keras_out = np.asarray(keras.layers.Dropout(p, dtype="float64")(x, training=True))
    for out in (ours, torch_out, keras_out):
        kept = out != 0
        assert 0 < kept.sum() < x.size and np.allclose(out[kept], x[kept] / (1 - p), rtol=1e-12)
    assert np.array_equal(op.backward(np.ones_like(x)), (ours != 0) / (1 - p))
    op.training = False
    assert np.array_equal(op.forward(x), x)


def test_metrics_are_scikit_learns():
    from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, mean_squared_error

    from triptych.experiments import metrics

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(50, 1)), rng.normal(size=(50, 1))
    got = metrics("linreg", p, y)
    assert got["loss"] == pytest.approx(mean_squared_error(y, p), rel=1e-12)
    assert got["mae"] == pytest.approx(mean_absolute_error(y, p), rel=1e-12)
    assert got["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, p)), rel=1e-12)
    labels, probs = rng.integers(0, 2, (50, 1)).astype(float), rng.uniform(0.05, 0.95, (50, 1))
    got = metrics("xor", probs, labels)
    assert got["loss"] == pytest.approx(log_loss(labels.ravel(), probs.ravel()), rel=1e-9)
    assert got["accuracy"] == accuracy_score(labels.ravel(), probs.ravel() > 0.5)
    classes, logits = rng.integers(0, 10, 50), rng.normal(size=(50, 10))
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    got = metrics("lstm", logits, classes)
    assert got["loss"] == pytest.approx(log_loss(classes, softmax, labels=range(10)), rel=1e-9)
    assert got["accuracy"] == accuracy_score(classes, logits.argmax(axis=1))
