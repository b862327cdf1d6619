"""The fast kernels of scratch/fast/ against the reference operations the scratch model files are written in
(float64, ≤ 1e-12): every model whole — forward in evaluation and in training mode, the loss, every gradient
and the input's, the weights after one optimizer step — and layer by layer (conv + pool, each recurrent
cell, the sigmoid); that the comparison catches a moved weight and a mutated kernel; and the choice of
kernels through TRIPTYCH_SCRATCH_KERNELS."""
from __future__ import annotations

import numpy as np
import pytest

from scratch import conv, fast, kernels, layers, ops, recurrent
from scratch.fast import attention as fast_attention, conv as fast_conv, norm as fast_norm, ops as fast_ops, recurrent as fast_recurrent
from scratch.setup import configure
from triptych.parity import PARITY_EPSILONS, max_abs, parity_problem, parity_weights
from triptych.registry import MODELS, resolve

TOL = 1e-12
WHOLE_MODEL_MAXIMA: dict[str, float] = {}  # model → the largest difference seen, printed with -s


def _build(scratch, monkeypatch, kernel_choice: str, model: str, overrides: dict):
    monkeypatch.setenv(kernels.VARIABLE, kernel_choice)
    net = scratch.build(model, seed=0, dtype="float64", **overrides)
    assert net.extra["kernels"] == kernel_choice
    return net


def differences(scratch, monkeypatch, model: str, overrides: dict | None = None, move=None) -> dict[str, float]:
    """max |fast − reference| per quantity, both networks from seed 0 and the parity weights, on the parity
    problem: predict (eval mode), the loss and every gradient incl. the input's (training mode: dropout on
    where the config has it, both networks drawing the same masks), and the weights after one full-batch step
    of the parity optimizer.  ``move(weights)`` changes the fast network's copy of the weights (to show a
    difference is caught)."""
    spec = MODELS[model]
    p, overrides = spec.parity, {**spec.parity.get("overrides", {}), **(overrides or {})}
    X, y = parity_problem(model, resolve(model, overrides), p["n"], 0, p.get("seq_len"))
    nets = {k: _build(scratch, monkeypatch, k, model, overrides) for k in kernels.CHOICES}
    w0 = parity_weights(scratch, nets["reference"])
    for choice, net in nets.items():
        scratch.set_weights(net, move({k: v.copy() for k, v in w0.items()}) if move and choice == "fast" else w0)
    found = {"forward": max_abs(*(scratch.predict(net, X) for net in nets.values()))}
    (loss_f, grads_f), (loss_r, grads_r) = (scratch.loss_and_grads(nets[k], X, y, input_grad=True)
                                            for k in ("fast", "reference"))
    found["loss"] = abs(loss_f - loss_r)
    assert grads_f.keys() == grads_r.keys() and "input" in grads_f
    found.update({f"grad {k}": max_abs(grads_f[k], grads_r[k]) for k in grads_f})
    kwargs = dict(lr=p["lr"], optimizer=p["optimizer"], seed=0)
    if p["optimizer"] in PARITY_EPSILONS:
        kwargs["epsilon"] = PARITY_EPSILONS[p["optimizer"]]
    for net in nets.values():
        scratch.set_weights(net, w0)
        scratch.train(net, X, y, epochs=1, batch_size=None, **kwargs)
    after = [scratch.get_weights(net) for net in nets.values()]
    found.update({f"step {k}": max_abs(after[0][k], after[1][k]) for k in after[0]})
    return found


@pytest.mark.parametrize("model", MODELS)
def test_fast_kernels_equal_the_reference_on_every_model(scratch, monkeypatch, model):
    found = differences(scratch, monkeypatch, model)
    WHOLE_MODEL_MAXIMA[model] = max(found.values())
    print(f"\n{model}: fast vs reference, largest difference {max(found.values()):.2e} ({max(found, key=found.get)})")
    assert max(found.values()) <= TOL, {k: v for k, v in found.items() if v > TOL}


@pytest.mark.parametrize("model", [m for m in MODELS if "dropout" in resolve(m, {})])
def test_fast_kernels_equal_the_reference_with_dropout_on(scratch, monkeypatch, model):
    """The recipe's dropout (the parity problem turns it off): both networks draw the same masks."""
    found = differences(scratch, monkeypatch, model, {"dropout": 0.5})
    assert max(found.values()) <= TOL, {k: v for k, v in found.items() if v > TOL}


@pytest.mark.parametrize("model", MODELS)
def test_the_comparison_catches_a_kernel_moved_by_1e_9(scratch, monkeypatch, model):
    """Every entry of the largest kernel moved by 1e-9: one entry alone can meet only zero inputs (on resnet's 8×8 parity
    problem, block2.conv2.W's first entry moved the forward pass by 7e-17)."""
    def move(weights):
        name = max(weights, key=lambda k: weights[k].size)
        weights[name] += 1e-9
        return weights
    found = differences(scratch, monkeypatch, model, move=move)
    assert found["forward"] > TOL and max(found.values()) > TOL


@pytest.mark.parametrize("model, cls, method", [
    ("mnist_cnn", fast_conv.Conv2D, "_param_grads"), ("mnist_cnn", fast_conv.Conv2D, "_input_grad"),
    ("lstm", fast_recurrent.LSTM, "_bptt"), ("gru", fast_recurrent.GRU, "_bptt"), ("rnn", fast_recurrent.SimpleRNN, "_bptt"),
    ("xor", fast_ops.Sigmoid, "_output"), ("resnet", fast_conv.Conv2D, "_input_grad"),
    ("resnet", fast_norm.BatchNorm, "_input_grad"), ("resnet", fast_norm.BatchNorm, "_output"),
    ("autoencoder", fast_conv.Conv2DTranspose, "_output"), ("transformer", fast_attention.PositionEmbedding, "_param_grads"),
])
def test_the_comparison_catches_a_fast_kernel_off_by_1e_9(scratch, monkeypatch, model, cls, method):
    """A fast kernel whose result is off by a relative 1e-9 (its gradient, or the sigmoid's output) fails."""
    original = getattr(cls, method)

    def off(self, *args):
        result = original(self, *args)
        for value in (result.values() if isinstance(result, dict) else [result] if result is not None
                      else {id(v): v for v in (getattr(self, k, None) for k in ("da", "dc", "dz"))
                            if v is not None}.values()):  # BPTT's gradients: da and dc, or the LSTM's dz
            value *= 1 + 1e-9
        return result
    monkeypatch.setattr(cls, method, off)
    assert max(differences(scratch, monkeypatch, model).values()) > TOL


# ---------------------------------------------------------------- layer by layer


def _layers_forward_backward(layers, x, upstream):
    """(output, dL/dx, {param name: gradient}) of ``layers`` run in order on x, then back from ``upstream``."""
    for layer in layers:
        x = layer.forward(x)
    grad = upstream
    for layer in reversed(layers):
        grad = layer.backward(grad)
    return x, grad, {k: v for layer in layers for k, v in layer.param_grads.items()}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("size, stride, padding, channels", [(7, 1, "valid", 2), (8, 1, "valid", 5),
                                                              (9, 2, "same", 2), (6, 1, "same", 4)])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_fused_conv_pool_equals_conv_then_pool(size, stride, padding, channels, activation, ties):
    """fast ConvPoolLayer = reference Conv2DLayer then MaxPool2DLayer: forward, input and parameter gradients,
    also on odd sizes (the ragged edge dropped), with few and many channels (its two window copies), and on
    sparse 0/1 images, where many patches hold only zeros, their outputs tie within a pooling window, and the
    first arg-max (row-major) takes the gradient."""
    rng = np.random.default_rng(5)
    x = (rng.random((3, size, size, channels)) < 0.05).astype(float) if ties else rng.normal(size=(3, size, size, channels))
    W, b = rng.normal(size=(3, 3, channels, 4)), rng.normal(size=4)
    reference = [conv.Conv2DLayer("conv", W, b, activation, stride, padding), conv.MaxPool2DLayer("pool", 2)]
    fused = fast_conv.ConvPoolLayer("conv", W, b, activation, stride, padding, pool=2)
    out_r, dx_r, grads_r = _layers_forward_backward(reference, x, upstream := rng.normal(size=reference[1].forward(
        reference[0].forward(x)).shape))
    out_f, dx_f, grads_f = _layers_forward_backward([fused], x, upstream)
    assert out_f.shape == out_r.shape and max_abs(out_f, out_r) <= TOL
    assert max_abs(dx_f, dx_r) <= TOL
    assert grads_f.keys() == grads_r.keys() == {"W", "b"}
    assert all(max_abs(grads_f[k], grads_r[k]) <= TOL for k in grads_f)


@pytest.mark.parametrize("size, stride, kernel, channels", [(8, 2, 3, 2), (7, 2, 3, 5), (6, 1, 3, 4), (7, 2, 1, 3)])
def test_fast_conv_without_pool_equals_the_reference_conv(size, stride, kernel, channels):
    """A ResNet's bare convolution ('same', stride 1 or 2, 3×3 or a 1×1 shortcut), few and many channels."""
    rng = np.random.default_rng(size)
    x, W = rng.normal(size=(3, size, size, channels)), rng.normal(size=(kernel, kernel, channels, 4))
    results = []
    for op in (conv.Conv2D(W, stride, "same"), fast_conv.Conv2D(W, stride, "same")):
        out = op.forward(x)
        results.append((out, op.backward(np.random.default_rng(1).normal(size=out.shape)), op.param_grads))
    (out_r, dx_r, g_r), (out_f, dx_f, g_f) = results
    assert max_abs(out_f, out_r) <= TOL and max_abs(dx_f, dx_r) <= TOL and max_abs(g_f["W"], g_r["W"]) <= TOL


@pytest.mark.parametrize("size, stride, padding, kernel, channels, rows", [
    (13, 1, "same", 3, 5, True), (12, 1, "same", 3, 4, True), (13, 1, "valid", 3, 6, True), (12, 1, "same", 2, 4, True),
    (11, 1, "same", 1, 5, True), (13, 1, "same", 3, 3, False), (13, 2, "same", 3, 5, False), (13, 2, "valid", 3, 4, False),
    (7, 1, "same", 3, 5, False)])
@pytest.mark.parametrize("block", [fast_conv.ROWS_BLOCK, 50], ids=["one-block", "blocks-of-50"])
def test_fast_conv_rows_path_equals_the_reference_conv(monkeypatch, size, stride, padding, kernel, channels, rows, block):
    """The rows path (stride 1, ≥ ROWS_MIN_CHANNELS channels, a padded grid ≤ ROWS_MAX_GRID × the output) and the
    cases that take im2col instead (few channels, stride 2, a small image): forward, dx, dK, odd and even sizes and
    kernels ('same' with an even kernel pads one more after), with the rows cut in blocks that end anywhere."""
    monkeypatch.setattr(fast_conv, "ROWS_BLOCK", block)
    rng = np.random.default_rng(size + kernel)
    x, W = rng.normal(size=(3, size, size + 1, channels)), rng.normal(size=(kernel, kernel, channels, 6))
    results = []
    for op in (conv.Conv2D(W, stride, padding), fast := fast_conv.Conv2D(W, stride, padding)):
        out = op.forward(x)
        results.append((out, op.backward(np.random.default_rng(1).normal(size=out.shape)), op.param_grads))
        out = op.forward(x + 1.0)  # a second step on the kept buffers
        results.append((out, op.backward(np.random.default_rng(2).normal(size=out.shape)), op.param_grads))
    assert fast.rows == rows
    for (out_r, dx_r, g_r), (out_f, dx_f, g_f) in (results[0::2], results[1::2]):
        assert out_f.shape == out_r.shape and max_abs(out_f, out_r) <= TOL
        assert max_abs(dx_f, dx_r) <= TOL and max_abs(g_f["W"], g_r["W"]) <= TOL


def test_fast_kernels_equal_the_reference_on_a_resnet_that_takes_the_rows_path(scratch, monkeypatch):
    """The parity problem's 8×8 images are too small for the rows path; on 12×12 the stride-1 convolutions take it."""
    found = differences(scratch, monkeypatch, "resnet", {"image_size": (12, 12), "filters": (4, 5)})
    assert max(found.values()) <= TOL, {k: v for k, v in found.items() if v > TOL}


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("shape", [(4, 5, 5, 3), (6, 7)], ids=["images", "rows"])
def test_fast_batchnorm_equals_the_reference(shape, training):
    """Forward, dx, dγ, dβ and the moving statistics' update, on an off-centre input and non-trivial γ, β."""
    rng = np.random.default_rng(2)
    x, c = 3.0 + 2.0 * rng.normal(size=shape), shape[-1]
    gamma, beta, mean, var = rng.normal(size=c), rng.normal(size=c), rng.normal(size=c), 0.5 + rng.random(c)
    results = []
    for cls in (layers.BatchNorm, fast_norm.BatchNorm):
        op = cls(gamma.copy(), beta.copy(), mean.copy(), var.copy(), 0.9, 1e-3)
        op.training = training
        out = op.forward(x)
        results.append((out, op.backward(np.cos(np.arange(out.size)).reshape(out.shape)),
                        op.param_grads, op.state))
    (out_r, dx_r, g_r, s_r), (out_f, dx_f, g_f, s_f) = results
    assert max_abs(out_f, out_r) <= TOL and max_abs(dx_f, dx_r) <= TOL
    assert all(max_abs(g_f[k], g_r[k]) <= TOL for k in ("gamma", "beta"))
    assert all(max_abs(s_f[k], s_r[k]) <= TOL for k in ("moving_mean", "moving_variance"))


@pytest.mark.parametrize("size, channels", [(7, 3), (4, 1), (5, 6)])
@pytest.mark.parametrize("input_grad", [True, False])
def test_fast_transposed_conv_equals_the_reference(size, channels, input_grad):
    """Forward, dx (when asked) and dK of the stride-2 transposed convolution, odd and even sizes."""
    rng = np.random.default_rng(size)
    x, K = rng.normal(size=(2, size, size, channels)), rng.normal(size=(3, 3, 4, channels))
    results = []
    for cls in (conv.Conv2DTranspose, fast_conv.Conv2DTranspose):
        op = cls(K.copy(), 2)
        out = op.forward(x)
        results.append((out, op.backward(np.cos(np.arange(out.size)).reshape(out.shape), input_grad), op.param_grads))
    (out_r, dx_r, g_r), (out_f, dx_f, g_f) = results
    assert max_abs(out_f, out_r) <= TOL and max_abs(g_f["W"], g_r["W"]) <= TOL
    assert (dx_f is None and dx_r is None) if not input_grad else max_abs(dx_f, dx_r) <= TOL


def test_fast_position_embedding_equals_the_scatter_add():
    """dE: the rows 0…T−1 summed over the batch, zero beyond T (a table longer than the sequence)."""
    from scratch import attention

    rng = np.random.default_rng(3)
    E, x, dy = rng.normal(size=(9, 4)), rng.normal(size=(5, 6, 4)), rng.normal(size=(5, 6, 4))
    grads = []
    for cls in (attention.PositionEmbedding, fast_attention.PositionEmbedding):
        op = cls(E.copy())
        op.forward(x)
        op.backward(dy)
        grads.append(op.param_grads["E"])
    assert max_abs(*grads) <= TOL and not grads[1][6:].any()


CELLS = [(recurrent.SimpleRNN, fast_recurrent.SimpleRNN, 1, 1), (recurrent.GRU, fast_recurrent.GRU, 3, 2),
         (recurrent.LSTM, fast_recurrent.LSTM, 4, 1)]


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "return-sequences"])
@pytest.mark.parametrize("steps", [1, 5, 28])
@pytest.mark.parametrize("reference_cell, fast_cell, gates, bias_rows", CELLS, ids=["rnn", "gru", "lstm"])
def test_fast_recurrent_cells_equal_the_step_by_step_reference(reference_cell, fast_cell, gates, bias_rows, steps,
                                                               return_sequences):
    """Forward, dL/dx and dW, dU, db through time; weights large enough to saturate some gates."""
    rng = np.random.default_rng(steps)
    f, u, n = 5, 6, 4
    W, U = rng.normal(scale=0.8, size=(f, gates * u)), rng.normal(scale=0.8, size=(u, gates * u))
    b = rng.normal(scale=0.5, size=(gates * u,) if bias_rows == 1 else (2, gates * u))
    x = rng.normal(size=(n, steps, f))
    upstream = rng.normal(size=(n, steps, u) if return_sequences else (n, u))
    results = []
    for cell in (reference_cell, fast_cell):
        op = cell(W.copy(), U.copy(), b.copy(), return_sequences)
        out = op.forward(x)
        results.append((out, op.backward(upstream), op.param_grads))
    (out_r, dx_r, grads_r), (out_f, dx_f, grads_f) = results
    assert max_abs(out_f, out_r) <= TOL and max_abs(dx_f, dx_r) <= TOL
    assert grads_f.keys() == grads_r.keys() == {"W", "U", "b"}
    assert all(max_abs(grads_f[k], grads_r[k]) <= TOL for k in grads_f)


def test_the_sigmoid_through_tanh_equals_1_over_1_plus_exp():
    """σ(x) = (1 + tanh(x/2)) / 2 (fast) and 1 / (1 + e^−x) (reference), out to where both are 0 or 1."""
    x = np.concatenate([np.linspace(-40, 40, 10001), [-800.0, -710.0, 710.0, 800.0]])
    assert max_abs(fast_ops.sigmoid(x), ops.sigmoid(x)) <= 1e-15
    assert ops.sigmoid(np.array([-800.0]))[0] == 0.0 == fast_ops.sigmoid(np.array([-800.0]))[0]


# ---------------------------------------------------------------- accelerate and the choice of kernels


def test_accelerate_swaps_layers_in_place_on_the_same_parameter_arrays():
    from scratch import bilstm, lstm, mnist_cnn, xor

    for module, model, swapped in ((mnist_cnn, "mnist_cnn", fast_conv.ConvPoolLayer), (lstm, "lstm", fast_recurrent.LSTMLayer),
                                   (bilstm, "bilstm", fast_recurrent.BidirectionalLSTMLayer)):
        network = module.build(resolve(model, {}), 0, "float64")
        before = network.params()
        assert fast.accelerate(network) is network
        assert all(network.params()[k] is v for k, v in before.items()) and network.params().keys() == before.keys()
        assert any(isinstance(layer, swapped) for layer in network.layers)
    network = mnist_cnn.build(resolve("mnist_cnn", {}), 0, "float64")
    names = [layer.name for layer in fast.accelerate(network).layers]
    assert names == ["reshape", "conv1", "conv2", "flatten", "dropout", "output"]  # each pool fused into its conv
    assert [type(layer).__name__ for layer in network.layers[1:3]] == ["ConvPoolLayer"] * 2
    assert [layer.pool for layer in network.layers[1:3] for layer in [layer.operations[0]]] == [2, 2]
    network = fast.accelerate(xor.build(resolve("xor", {}), 0, "float64"))
    assert isinstance(network.layers[-1].operations[-1], fast_ops.Sigmoid)
    assert not isinstance(network.layers[0].operations[-1], fast_ops.Sigmoid)  # tanh: nothing to swap


def test_model_files_build_reference_layers_and_the_framework_the_chosen_kernels(scratch, monkeypatch):
    monkeypatch.delenv(kernels.VARIABLE, raising=False)
    assert kernels.selected() == "fast"
    default = scratch.build("mnist_cnn")
    assert default.extra["kernels"] == "fast" and isinstance(default.native.layers[1], fast_conv.ConvPoolLayer)
    monkeypatch.setenv(kernels.VARIABLE, "")
    assert kernels.selected() == "fast"
    monkeypatch.setenv(kernels.VARIABLE, "reference")
    plain = scratch.build("mnist_cnn")
    assert [type(layer) for layer in plain.native.layers[1:5]] == [conv.Conv2DLayer, conv.MaxPool2DLayer] * 2
    assert type(scratch.build("lstm").native.layers[0]) is recurrent.LSTMLayer
    assert type(scratch.build("deep_net").native).__name__ == "DeepNet"


@pytest.mark.parametrize("value", ["Fast", "tuned", " reference"])
def test_an_unknown_kernel_choice_is_a_clear_error(scratch, monkeypatch, value):
    monkeypatch.setenv(kernels.VARIABLE, value)
    message = rf"TRIPTYCH_SCRATCH_KERNELS='{value}' .*expected one of fast, reference"
    with pytest.raises(ValueError, match=message):
        kernels.selected()
    with pytest.raises(ValueError, match=message):
        configure()
    with pytest.raises(ValueError, match=message):
        scratch.build("xor")
