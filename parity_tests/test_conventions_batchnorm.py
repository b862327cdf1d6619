"""BatchNorm's conventions, each shown on one layer (float64): torch's momentum 0.1 is Keras's 0.9; the two default
epsilons; torch's unbiased running variance against Keras's biased one (the difference no setting removes, which
the parity ladder reports by name); training mode against inference mode; and the stride-2 'same' padding of
resnet's downsampling blocks.  Scratch's BatchNorm (scratch/layers.py) follows Keras's conventions, the canonical
ones, and its backward passes match finite differences in both modes."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from parity_tests.helpers import operation_fd_errors
from scratch.conv import Conv2D
from scratch.layers import BatchNorm, GlobalAveragePool
from torch_impl.layers import SameConv2d
from triptych.parity import max_abs
from triptych.tolerances import KNOWN_DIFFERENCES

TOL = 1e-12
C = 3


def _batch(n=4, h=3, w=3, seed=0):
    """NHWC activations with a per-channel mean and spread of their own."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, h, w, C)) * np.array([0.1, 1.0, 2.0]) + np.array([0.5, -1.0, 2.0])


def _stats(seed=1):
    """(γ, β, moving mean, moving variance) off their initial values."""
    rng = np.random.default_rng(seed)
    return 1 + 0.1 * rng.normal(size=C), 0.1 * rng.normal(size=C), 0.1 * rng.normal(size=C), np.exp(0.1 * rng.normal(size=C))


def _scratch(momentum=0.9, epsilon=1e-5):
    gamma, beta, mean, var = _stats()
    return BatchNorm(gamma.copy(), beta.copy(), mean.copy(), var.copy(), momentum, epsilon)


def _torch(momentum=0.1, eps=1e-5):
    layer = torch.nn.BatchNorm2d(C, eps=eps, momentum=momentum).double()
    gamma, beta, mean, var = _stats()
    layer.load_state_dict({"weight": torch.tensor(gamma), "bias": torch.tensor(beta), "running_mean": torch.tensor(mean),
                           "running_var": torch.tensor(var), "num_batches_tracked": torch.tensor(0)})
    return layer


def _keras(**options):
    layer = keras.layers.BatchNormalization(dtype="float64", **options)
    layer.build((None, 3, 3, C))
    layer.set_weights(list(_stats()))
    return layer


def _torch_out(layer, x, training):
    layer.train(training)
    with torch.no_grad():
        return layer(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()


def _keras_out(layer, x, training):
    return keras.ops.convert_to_numpy(layer(x, training=training))


def _scratch_out(op, x, training):
    op.training = training
    return op.forward(x)


def test_torch_momentum_0_1_is_keras_momentum_0_9():
    """torch: running ← (1 − m)·running + m·batch; Keras: moving ← m·moving + (1 − m)·batch.  torch's 0.1 is Keras's
    0.9 (scratch's convention), to the last bit of a float64 moving mean; Keras's default 0.99 is another rate."""
    x = _batch()
    t, k, s = _torch(momentum=0.1), _keras(momentum=0.9, epsilon=1e-5), _scratch(momentum=0.9)
    _torch_out(t, x, True), _keras_out(k, x, True), _scratch_out(s, x, True)
    torch_mean, keras_mean = t.running_mean.numpy(), keras.ops.convert_to_numpy(k.moving_mean)
    expected = 0.9 * _stats()[2] + 0.1 * x.mean(axis=(0, 1, 2))
    assert max_abs(torch_mean, expected) <= TOL and max_abs(keras_mean, expected) <= TOL
    assert max_abs(s.state["moving_mean"], expected) <= TOL
    default = _keras(epsilon=1e-5)
    assert default.momentum == 0.99
    _keras_out(default, x, True)
    assert max_abs(keras.ops.convert_to_numpy(default.moving_mean), expected) > 1e-3
    same_number = _torch(momentum=0.9)  # Keras's number given to torch: the batch weighs 0.9, not 0.1
    _torch_out(same_number, x, True)
    assert max_abs(same_number.running_mean.numpy(), expected) > 1e-2


def test_the_default_epsilons_differ_and_one_epsilon_makes_them_agree():
    """torch eps 1e-5, Keras epsilon 1e-3: at σ² = 0.01 the normalised outputs differ by 4.6 %
    (√((0.01 + 1e-5) / (0.01 + 1e-3)) = 0.954); resnet gives both (and scratch) 1e-5."""
    assert torch.nn.BatchNorm2d(C).eps == 1e-5 and keras.layers.BatchNormalization().epsilon == 1e-3
    x = _batch()
    t, k = _torch(), _keras(momentum=0.9)
    for layer in (t,):
        layer.running_var.fill_(0.01)
        layer.running_mean.zero_(), layer.weight.data.fill_(1.0), layer.bias.data.zero_()
    k.set_weights([np.ones(C), np.zeros(C), np.zeros(C), np.full(C, 0.01)])
    ratio = _keras_out(k, x, False) / _torch_out(t, x, False)
    assert np.allclose(ratio, np.sqrt((0.01 + 1e-5) / (0.01 + 1e-3)), rtol=1e-12, atol=0)
    assert abs(1 - ratio.flat[0] - 0.046) < 1e-3
    same = _keras(momentum=0.9, epsilon=1e-5)
    same.set_weights([np.ones(C), np.zeros(C), np.zeros(C), np.full(C, 0.01)])
    assert max_abs(_keras_out(same, x, False), _torch_out(t, x, False)) <= TOL


def test_torch_running_variance_is_unbiased_keras_and_canonical_biased():
    """After one training batch of m = N·H·W values per channel: torch's running variance takes the unbiased batch
    variance (÷ m − 1), Keras's and scratch's moving variance the biased one (÷ m), the canonical convention.  The
    difference is exactly (1 − ρ)·σ²·(m/(m − 1) − 1); no setting removes it (both normalise with the biased one)."""
    x = _batch()
    m = x.size // C
    t, k, s = _torch(), _keras(momentum=0.9, epsilon=1e-5), _scratch()
    outs = _torch_out(t, x, True), _keras_out(k, x, True), _scratch_out(s, x, True)
    assert max_abs(outs[0], outs[1]) <= TOL and max_abs(outs[0], outs[2]) <= TOL
    v0, biased = _stats()[3], x.var(axis=(0, 1, 2))
    keras_var = keras.ops.convert_to_numpy(k.moving_variance)
    assert max_abs(keras_var, 0.9 * v0 + 0.1 * biased) <= TOL
    assert max_abs(s.state["moving_variance"], keras_var) <= TOL
    torch_var = t.running_var.numpy()
    assert max_abs(torch_var, 0.9 * v0 + 0.1 * biased * m / (m - 1)) <= TOL
    assert np.allclose((torch_var - 0.9 * v0) / (keras_var - 0.9 * v0), m / (m - 1), rtol=1e-12, atol=0)


def test_resnet_ladder_reports_the_running_variance_difference_by_name(ladder):
    """The ladder compares every trainable entry and every moving mean at the tolerance, and the moving variances of
    each pair with torch apart, under the known difference's name, with the measured figure (reported, no verdict);
    between scratch and Keras the moving variances are compared at the tolerance like everything else."""
    name = "unbiased running variance"
    assert KNOWN_DIFFERENCES[name][:2] == ("torch", "moving_variance")
    results = [r for r in ladder("resnet", "float64") if r.rung in (4, 5)]  # the session's ladder, computed once
    known = [r for r in results if f"known difference '{name}'" in r.detail]
    assert {(r.rung, r.pair) for r in known} == {(4, "scratch↔torch"), (4, "torch↔keras"), (5, "scratch↔torch"),
                                                  (5, "torch↔keras")}
    assert all(r.passed is None and r.value > 1e-4 for r in known)  # really there, and really measured
    checked = [r for r in results if r not in known]
    assert all(r.passed for r in checked) and all("state entries included" in r.detail for r in checked)


def test_training_mode_and_inference_mode_differ_and_each_agrees_across_frameworks():
    """Training mode normalises with the batch's own statistics, inference mode with the moving ones: different
    outputs from the same layer; in each mode the three agree."""
    x = _batch()
    for training in (False, True):
        outs = [_torch_out(_torch(), x, training), _keras_out(_keras(momentum=0.9, epsilon=1e-5), x, training),
                _scratch_out(_scratch(), x, training)]
        assert max_abs(outs[0], outs[1]) <= TOL and max_abs(outs[0], outs[2]) <= TOL
        if training:  # per channel: mean β, spread |γ| (biased), whatever the moving statistics
            gamma, beta = _stats()[:2]
            assert max_abs(outs[2].mean(axis=(0, 1, 2)), beta) <= TOL
            assert max_abs(outs[2].std(axis=(0, 1, 2)), np.abs(gamma) * np.sqrt(x.var(axis=(0, 1, 2)) /
                                                                               (x.var(axis=(0, 1, 2)) + 1e-5))) <= TOL
        else:
            inference = outs[2]
    assert max_abs(inference, outs[2]) > 0.1


def test_resnet_stride_2_same_padding_puts_the_odd_pixel_after():
    """resnet's downsampling 3×3 conv of stride 2 on an even side (8): TensorFlow's 'same' pads 0 before and 1 after;
    torch's symmetric padding=1 pads one each side, another output; torch_impl.layers.SameConv2d pads explicitly
    (F.pad) and agrees with Keras and scratch.  Its 1×1 shortcut of stride 2 pads nothing."""
    rng = np.random.default_rng(0)
    x, kernel = rng.normal(size=(2, 8, 8, 2)), rng.normal(size=(3, 3, 2, 4))
    keras_conv = keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False, dtype="float64")
    keras_conv.build((None, 8, 8, 2))
    keras_conv.kernel.assign(kernel)
    expected = keras.ops.convert_to_numpy(keras_conv(x))
    ours = SameConv2d(2, 4, 3, stride=2).double()
    ours.weight.data = torch.from_numpy(kernel).permute(3, 2, 0, 1).contiguous()
    with torch.no_grad():
        x_t = torch.from_numpy(x).permute(0, 3, 1, 2)
        torch_same = ours(x_t).permute(0, 2, 3, 1).numpy()
        symmetric = F.conv2d(x_t, ours.weight, stride=2, padding=1).permute(0, 2, 3, 1).numpy()
    assert expected.shape == (2, 4, 4, 4) == symmetric.shape
    assert max_abs(torch_same, expected) <= TOL
    assert max_abs(Conv2D(kernel, 2, "same").forward(x), expected) <= TOL
    assert max_abs(symmetric, expected) > 0.1
    with pytest.raises(ValueError):  # torch's own 'same' refuses stride 2
        torch.nn.Conv2d(2, 4, 3, stride=2, padding="same")


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_scratch_batchnorm_backward_matches_finite_differences(training):
    op = _scratch()
    op.training = training
    errors = operation_fd_errors(op, _batch())
    assert max(errors.values()) <= 1e-6, errors


def test_scratch_global_average_pool_backward_matches_finite_differences():
    errors = operation_fd_errors(GlobalAveragePool(), _batch())
    assert max(errors.values()) <= 1e-6, errors


@pytest.mark.parametrize("name", ["scratch", "torch", "keras"])
def test_state_travels_with_the_weights_but_has_no_gradient(name):
    """resnet's moving statistics are canonical entries (get_weights/set_weights carry them, bit for bit) and state:
    loss_and_grads gives a gradient for each trainable entry and for none of the state entries."""
    from triptych.canonical import STATE, is_state, layout, trainable
    from triptych.frameworks import get_framework
    from triptych.parity import parity_problem, parity_weights
    from triptych.registry import MODELS, resolve

    overrides = MODELS["resnet"].parity["overrides"]
    config = resolve("resnet", overrides)
    fw, scratch = get_framework(name), get_framework("scratch")
    net = fw.build("resnet", **overrides)
    weights = parity_weights(scratch, scratch.build("resnet", **overrides))
    fw.set_weights(net, weights)
    back = fw.get_weights(net)
    state = [k for k in layout("resnet", config) if is_state(k)]
    assert state and {k.rsplit(".", 1)[-1] for k in state} == set(STATE)
    assert all(np.array_equal(back[k], weights[k]) for k in weights)
    X, y = parity_problem("resnet", config, 4)
    _, grads = fw.loss_and_grads(net, X, y)
    assert list(grads) == trainable(layout("resnet", config))
