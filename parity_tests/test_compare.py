"""triptych.compare, transfer, assert_equivalent and ``triptych compare`` on model pairs written outside the core:
every built-in model's torch and Keras nets (no declarations used), pairs written here, and examples/port."""
from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import torch
from torch import nn

import triptych
from porting.pairing import example_input
from triptych import MODELS, get_framework
from triptych.cli import main
from triptych.testing import assert_equivalent
from triptych.tolerances import PARITY_ADAM_EPSILON

PORT = Path(__file__).resolve().parents[1] / "examples" / "port"
sys.path.insert(0, str(PORT))
import keras_cnn  # noqa: E402
import torch_cnn  # noqa: E402

L = keras.layers
LOSS = {"linreg": "mse", "house_mlp": "mse", "autoencoder": "mse", "xor": "bce", "deep_net": "mse"}


def rng_x(*shape):
    return np.random.default_rng(0).standard_normal(shape)


# ---------------------------------------------------------------- the built-in models, through the public API only


@pytest.mark.parametrize("model", list(MODELS))
def test_builtin_pair_passes_and_maps_as_declared(model):
    """torch and Keras nets from get_framework(...).build, different seeds: transfer maps every weight as the
    hand-written conversions do (canonical weights equal bit for bit), and compare passes every rung in float64."""
    t = get_framework("torch").build(model, seed=0, dtype="float64")
    k = get_framework("keras").build(model, seed=1, dtype="float64")
    X = example_input(t.native, k.native, batch=2)
    triptych.transfer(t.native, k.native, X)
    ours, theirs = get_framework("torch").get_weights(t), get_framework("keras").get_weights(k)
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[n], theirs[n]) for n in ours)
    result = triptych.compare(t.native, k.native, X, loss=LOSS.get(model, "cross_entropy"), optimizer="sgd",
                              lr=0.05, options={"momentum": 0.9}, steps=3)
    assert result.dtype == "float64" and result.passed, result.table()
    assert result.first_divergence is None
    assert {r.rung for r in result.rungs} == {1, 2, 3, 4, 5}


# ---------------------------------------------------------------- pairs written here, good and trapped


class TorchMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.norm, self.act, self.fc2 = nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.act(self.norm(self.fc1(x))))


def exact_gelu(x):
    """x · ½ (1 + erf(x / √2)), as torch's nn.GELU() (TensorFlow's own exact GELU is ≈ 5e-9 off it in float64)."""
    return 0.5 * x * (1.0 + keras.ops.erf(x / np.sqrt(2.0)))


def keras_mlp(epsilon=1e-5, gelu=exact_gelu):
    return keras.Sequential([keras.Input((6,)), L.Dense(8), L.LayerNormalization(epsilon=epsilon),
                             L.Activation(gelu), L.Dense(3)])


class TorchBiGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru, self.out = nn.GRU(4, 5, batch_first=True, bidirectional=True), nn.Linear(10, 2)

    def forward(self, x):
        _, h = self.gru(x)  # h (2, N, 5): the forward direction's last state, the backward's (at t = 0)
        return self.out(torch.cat([h[0], h[1]], dim=1))


def keras_bigru():
    return keras.Sequential([keras.Input((None, 4)), L.Bidirectional(L.GRU(5)), L.Dense(2)])


class TorchEmbedLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.lstm, self.out = nn.Embedding(20, 6), nn.LSTM(6, 7, num_layers=2, batch_first=True), \
            nn.Linear(7, 3)

    def forward(self, tokens):
        seq, _ = self.lstm(self.embed(tokens))
        return self.out(seq[:, -1])


def keras_embed_lstm():
    return keras.Sequential([keras.Input((None,), dtype="int32"), L.Embedding(20, 6),
                             L.LSTM(7, return_sequences=True), L.LSTM(7), L.Dense(3)])


def test_mlp_with_layernorm_and_gelu_passes():
    result = triptych.compare(TorchMLP(), keras_mlp(), rng_x(5, 6), loss="mse", optimizer="adam", lr=0.01)
    assert result.passed, result.table()
    assert f"ε = {PARITY_ADAM_EPSILON:g} in both" in result.equivalences[0]


def test_layernorm_epsilon_is_found():
    result = triptych.compare(TorchMLP(), keras_mlp(epsilon=1e-3), rng_x(5, 6))
    d = result.first_divergence
    assert not result.passed and (d.torch_layer, d.keras_layer.startswith("layer_normalization")) == ("norm", True)
    assert d.hint.startswith("epsilon") and d.value > 1e-6


def test_gelu_approximation_is_found():
    result = triptych.compare(TorchMLP(), keras_mlp(gelu=keras.ops.gelu), rng_x(5, 6))
    d = result.first_divergence
    assert not result.passed and d.torch_layer == "act" and d.hint.startswith("GELU approximation"), result.table()
    assert 1e-5 < d.value < 1e-2


def test_adam_on_rounding_level_gradients_is_reported_not_failed():
    """A conv bias before a BatchNorm has a gradient that is zero up to rounding; Adam turns it into a step of about
    lr in either direction: reported under its name with its figure, resynced, and every rung still passes."""
    result = triptych.compare(torch_cnn.build(), keras_cnn.build(), rng_x(4, 3, 8, 8), loss="cross_entropy",
                              optimizer="adam", lr=0.01)
    assert result.passed, result.table()
    figure, why = result.known_differences["rounding-level gradients"]
    assert 1e-4 < figure <= 2 * 0.01 + 1e-12 and "features.0.b" in why


def test_stride2_same_padding_is_found():
    result = triptych.compare(torch_cnn.build(), keras_cnn.build_planted(), rng_x(4, 3, 8, 8), loss="cross_entropy")
    d = result.first_divergence
    assert not result.passed and d.torch_layer == "features.3" and d.hint.startswith("padding asymmetry")


def test_batchnorm_momentum_is_found():
    """Outputs, loss and gradients agree (momentum moves only the moving statistics): rung 4 fails, and the
    first divergence is the first BatchNorm's state after one training pass."""
    result = triptych.compare(torch_cnn.build(), keras_cnn.build_port(momentum=0.99), rng_x(4, 3, 8, 8),
                              loss="cross_entropy")
    failed = {r.rung for r in result.rungs if not r.passed}
    d = result.first_divergence
    assert 1 not in failed and 3 not in failed and 4 in failed
    assert (d.torch_layer, d.what) == ("features.1", "state after a training pass") and d.hint.startswith("momentum")


def naive_gru_copy(torch_model, keras_model):
    """A hand-written port's copy that forgets torch's gate order (r, z, n) is not Keras's (z, r, h)."""
    gru, layer = torch_model.gru, keras_model.layers[0]
    for suffix, cell in (("", layer.forward_layer.cell), ("_reverse", layer.backward_layer.cell)):
        p = {n: getattr(gru, f"{n}_l0{suffix}").detach().numpy() for n in ("weight_ih", "weight_hh", "bias_ih",
                                                                            "bias_hh")}
        cell.kernel.assign(p["weight_ih"].T)
        cell.recurrent_kernel.assign(p["weight_hh"].T)
        cell.bias.assign(np.stack([p["bias_ih"], p["bias_hh"]]))
    keras_model.layers[1].kernel.assign(torch_model.out.weight.detach().numpy().T)
    keras_model.layers[1].bias.assign(torch_model.out.bias.detach().numpy())


def test_bidirectional_gru_passes_and_swapped_gates_are_found():
    t, k, X = TorchBiGRU(), keras_bigru(), rng_x(3, 4, 4)
    assert triptych.compare(t, k, X, optimizer="rmsprop", lr=0.01).passed
    naive_gru_copy(t, k)
    result = triptych.compare(t, k, X, transfer=None)
    d = result.first_divergence
    assert not result.passed and (d.torch_layer, d.what) == ("gru", "weights") and d.hint.startswith("gate order")


def test_embedding_and_stacked_lstm_pass():
    tokens = np.random.default_rng(0).integers(0, 20, size=(4, 5))
    result = triptych.compare(TorchEmbedLSTM(), keras_embed_lstm(), tokens, loss="cross_entropy", optimizer="adam")
    assert result.passed, result.table()
    assert [p.kind for p in result.pairs] == ["embedding", "lstm", "dense"]
    assert "input gradient" not in {r.rung_name for r in result.rungs}  # token ids have none
    assert any("bias_hh folded" in n for n in result.notes)


class KerasSubclassed(keras.Model):
    """A subclassed port without get_config: it cannot be rebuilt in float64."""

    def __init__(self):
        super().__init__()
        self.fc1, self.norm = L.Dense(8, dtype="float32"), L.LayerNormalization(epsilon=1e-5, dtype="float32")
        self.fc2 = L.Dense(3, dtype="float32")

    def call(self, x):
        return self.fc2(exact_gelu(self.norm(self.fc1(x))))


def test_a_model_that_cannot_be_rebuilt_runs_in_float32_and_is_left_as_it_was():
    t, k, X = TorchMLP(), KerasSubclassed(), rng_x(5, 6).astype("float32")
    k(X)
    before = [np.array(w) for w in k.get_weights()]
    result = triptych.compare(t, k, X)
    assert result.dtype == "float32" and result.passed, result.table()
    assert any("cannot be rebuilt" in n for n in result.notes)
    assert all(np.array_equal(a, b) for a, b in zip(before, k.get_weights()))
    with pytest.raises(ValueError, match="dtype='float64'.*cannot be rebuilt"):
        triptych.compare(t, k, X, dtype="float64")


def test_conv1d_with_a_flatten_passes():
    """(N, C, L) as torch takes it, moved to (N, L, C) for Keras; the Dense after the Flatten has its rows permuted."""
    t = nn.Sequential(nn.Conv1d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5, 2))
    k = keras.Sequential([keras.Input((7, 3)), L.Conv1D(4, 3), L.ReLU(), L.Flatten(), L.Dense(2)])
    result = triptych.compare(t, k, rng_x(4, 3, 7))
    assert result.passed, result.table()
    assert [p.flatten for p in result.pairs] == [None, 4]


def test_transposed_conv_cropping_is_found():
    """torch's common padding=1, output_padding=1 gives Keras's padding="same" size, one pixel shifted."""
    t = nn.Sequential(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1))
    k = keras.Sequential([keras.Input((4, 4, 2)), L.Conv2DTranspose(3, 3, strides=2, padding="same")])
    result = triptych.compare(t, k, rng_x(2, 2, 4, 4))
    d = result.first_divergence
    assert not result.passed and d.torch_layer == "0" and d.hint.startswith("transposed-conv cropping")


# ---------------------------------------------------------------- transfer, errors, the helper, the command line


def test_transfer_round_trips_are_exact():
    t, k = torch_cnn.build(), keras_cnn.build()
    with torch.no_grad():
        for b in t.modules():
            if isinstance(b, nn.BatchNorm2d):
                b.running_mean.normal_()
                b.running_var.uniform_(0.5, 2.0)
    start = {n: v.clone() for n, v in t.state_dict().items()}
    triptych.transfer(t, k)
    back = torch_cnn.build()
    triptych.transfer(k, back)
    assert all(torch.equal(start[n], v) for n, v in back.state_dict().items() if n.endswith(("weight", "bias", "var",
                                                                                             "mean")))
    k2 = keras_cnn.build()
    triptych.transfer(back, k2)
    assert all(np.array_equal(a, b) for a, b in zip(k.get_weights(), k2.get_weights()))


def test_unpaired_and_misshaped_layers_are_named():
    extra = keras.Sequential([keras.Input((6,)), L.Dense(8), L.LayerNormalization(), L.Activation("gelu"),
                              L.Dense(3), L.Dense(3, name="extra")])
    with pytest.raises(ValueError, match="'extra'.*no torch module"):
        triptych.compare(TorchMLP(), extra, rng_x(5, 6))
    wide = keras.Sequential([keras.Input((6,)), L.Dense(9), L.LayerNormalization(), L.Activation("gelu"), L.Dense(3)])
    with pytest.raises(ValueError, match="'fc1'.*Linear.*'dense.*W: torch \\(6, 8\\), Keras \\(6, 9\\)"):
        triptych.compare(TorchMLP(), wide, rng_x(5, 6))


def test_pairs_override():
    k = keras.Sequential([keras.Input((6,)), L.Dense(8, name="a"), L.LayerNormalization(epsilon=1e-5, name="n"),
                          L.Activation(exact_gelu), L.Dense(3, name="b")])
    result = triptych.compare(TorchMLP(), k, rng_x(5, 6), pairs=[("fc1", "a"), ("norm", "n"), ("fc2", "b")])
    assert result.passed and [(p.torch_name, p.keras_name) for p in result.pairs] == [("fc1", "a"), ("norm", "n"),
                                                                                      ("fc2", "b")]
    with pytest.raises(ValueError, match="torch module 'fc1' \\(Linear\\) and Keras layer 'b' do not match"):
        triptych.compare(TorchMLP(), k, rng_x(5, 6), pairs=[("fc1", "b"), ("norm", "n"), ("fc2", "a")])
    with pytest.raises(ValueError, match="no torch module or Keras layer named 'nope'"):
        triptych.compare(TorchMLP(), k, rng_x(5, 6), pairs=[("fc1", "nope")])


def test_assert_equivalent():
    assert assert_equivalent(TorchMLP(), keras_mlp(), rng_x(5, 6)).passed
    with pytest.raises(AssertionError, match="(?s)FAIL.*first divergence: torch 'norm'.*epsilon"):
        assert_equivalent(TorchMLP(), keras_mlp(epsilon=1e-3), rng_x(5, 6))


def test_command_line_on_examples_port():
    def run(keras_factory):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["compare", f"{PORT}/torch_cnn.py:build", f"{PORT}/keras_cnn.py:{keras_factory}",
                         "--loss", "cross_entropy", "--steps", "2"])
        return code, out.getvalue()

    code, text = run("build")
    assert code == 0 and "compare in float64: PASSED" in text and "first divergence: none" in text
    code, text = run("build_planted")
    assert code == 1 and "first divergence: torch 'features.3'" in text and "padding asymmetry" in text
