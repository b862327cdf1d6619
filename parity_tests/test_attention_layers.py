"""The transformer's layers three ways (float64) and their conventions.

- Multi-head attention: torch packs Q, K, V into ``in_proj_weight`` (3E, E) (rows, (out, in)); Keras keeps query, key,
  value kernels (E, heads, head_dim) and an output kernel (heads, head_dim, E); canonical (E, E) with head j's columns
  [j·k, (j+1)·k) — all three agree on outputs and gradients from it; both scale the scores by 1/√head_dim.
- The key bias has no effect under softmax (canonical has none; torch's and Keras's held at zero).
- LayerNorm: eps 1e-5 (torch) vs epsilon 1e-3 (Keras).  GELU: torch ``nn.GELU()`` exact, ``keras.ops.gelu`` tanh
  approximation by default, ``keras.activations.gelu`` exact.
- torch's encoder-layer inference fast path: its own numerics (figure printed); the ladder runs the training path.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from parity_tests.helpers import operation_fd_errors
from scratch.attention import GELU, LayerNorm, MultiHeadSelfAttention, softmax
from scratch.ops import Dropout
from triptych.parity import max_abs

D, HEADS, T, N = 8, 2, 5, 3
K = D // HEADS


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    w = {f"{p}.W": rng.normal(scale=0.5, size=(D, D)) for p in ("query", "key", "value", "out")}
    w.update({f"{p}.b": rng.normal(scale=0.3, size=D) for p in ("query", "value", "out")})
    return w


def _scratch(x, R, w=None):
    op = MultiHeadSelfAttention(HEADS, Dropout(0.0), **{k: v.copy() for k, v in (w or _weights()).items()})
    out = op.forward(x)
    dx = op.backward(R)
    return out, {**op.param_grads, "x": dx}


def _torch_mha(w, key_bias=None):
    mha = torch.nn.MultiheadAttention(D, HEADS, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([w["query.W"].T, w["key.W"].T, w["value.W"].T])))
        kb = np.zeros(D) if key_bias is None else key_bias
        mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([w["query.b"], kb, w["value.b"]])))
        mha.out_proj.weight.copy_(torch.from_numpy(w["out.W"].T))
        mha.out_proj.bias.copy_(torch.from_numpy(w["out.b"]))
    return mha


def _torch(x, R, w=None, key_bias=None):
    w = w or _weights()
    mha = _torch_mha(w, key_bias)
    xt = torch.from_numpy(x).requires_grad_(True)
    out, _ = mha(xt, xt, xt, need_weights=False)
    (out * torch.from_numpy(R)).sum().backward()
    gw, gb = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    grads = {"query.W": gw[:D].T, "key.W": gw[D:2 * D].T, "value.W": gw[2 * D:].T, "query.b": gb[:D],
             "value.b": gb[2 * D:], "out.W": mha.out_proj.weight.grad.numpy().T, "out.b": mha.out_proj.bias.grad.numpy(),
             "x": xt.grad.numpy(), "key.b": gb[D:2 * D]}
    return out.detach().numpy(), grads


def _keras_mha(w, per_head=lambda a: a.reshape(D, HEADS, K)):
    mha = keras.layers.MultiHeadAttention(HEADS, K, dtype="float64")
    mha.build((N, T, D), (N, T, D))
    for part, dense in (("query", mha._query_dense), ("key", mha._key_dense), ("value", mha._value_dense)):
        dense.kernel.assign(per_head(w[f"{part}.W"]))
        dense.bias.assign(w[f"{part}.b"].reshape(HEADS, K) if part != "key" else np.zeros((HEADS, K)))
    mha._output_dense.kernel.assign(w["out.W"].reshape(HEADS, K, D))
    mha._output_dense.bias.assign(w["out.b"])
    return mha


def _keras(x, R, w=None):
    w = w or _weights()
    mha = _keras_mha(w)
    names = {"query.W": mha._query_dense.kernel, "query.b": mha._query_dense.bias, "key.W": mha._key_dense.kernel,
             "value.W": mha._value_dense.kernel, "value.b": mha._value_dense.bias, "out.W": mha._output_dense.kernel,
             "out.b": mha._output_dense.bias}
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        out = mha(xk, xk)
        loss = tf.reduce_sum(out * R)
    grads = tape.gradient(loss, [*names.values(), xk])
    return out.numpy(), {**{k: g.numpy().reshape(w[k].shape) for k, g in zip(names, grads)}, "x": grads[-1].numpy()}


def _problem(seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, T, D))


def test_qkv_packing_and_per_head_layout_agree_three_ways():
    x, R = _problem()
    out_s, grads_s = _scratch(x, R)
    for other in (_torch, _keras):
        out_o, grads_o = other(x, R)
        assert max_abs(out_s, out_o) <= 1e-12, other.__name__
        for key in grads_s:
            assert max_abs(grads_s[key], grads_o[key]) <= 1e-10, (other.__name__, key)
    mha = _torch_mha(_weights())
    assert tuple(mha.in_proj_weight.shape) == (3 * D, D) and tuple(mha.out_proj.weight.shape) == (D, D)
    keras_mha = _keras_mha(_weights())
    assert tuple(keras_mha._query_dense.kernel.shape) == (D, HEADS, K)
    assert tuple(keras_mha._output_dense.kernel.shape) == (HEADS, K, D)
    # the heads' columns are side by side: reading them interleaved (column c to head c mod h) is another model
    interleaved = _keras_mha(_weights(), per_head=lambda a: a.reshape(D, K, HEADS).transpose(0, 2, 1))
    assert max_abs(np.asarray(interleaved(x, x)), out_s) > 1e-3


def test_scratch_attention_backward_matches_finite_differences():
    op = MultiHeadSelfAttention(HEADS, Dropout(0.0), **_weights())
    errors = operation_fd_errors(op, _problem()[0])
    assert max(errors.values()) <= 1e-6, errors


def test_both_scale_the_scores_by_one_over_root_head_dim():
    x, _ = _problem()
    w = _weights()
    split = lambda z: z.reshape(N, T, HEADS, K).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = split(x @ w["query.W"] + w["query.b"]), split(x @ w["key.W"]), split(x @ w["value.W"] + w["value.b"])

    def by_hand(scale):
        a = softmax(q @ k.transpose(0, 1, 3, 2) * scale) @ v
        return a.transpose(0, 2, 1, 3).reshape(N, T, D) @ w["out.W"] + w["out.b"]

    xt = torch.from_numpy(x)
    torch_out = _torch_mha(w)(xt, xt, xt, need_weights=False)[0].detach().numpy()
    keras_out = np.asarray(_keras_mha(w)(x, x))
    for out in (torch_out, keras_out):
        assert max_abs(out, by_hand(1 / np.sqrt(K))) <= 1e-12
        assert max_abs(out, by_hand(1 / np.sqrt(D))) > 1e-3  # 1/√d_model is another model


def test_the_key_bias_has_no_effect_and_its_gradient_is_noise():
    """q·b_k is one number added to every score of a row; softmax is unchanged.  Its gradient is rounding noise,
    which Adam would divide by its own root and turn into full-size steps: held at zero, out of the canonical layout."""
    x, R = _problem()
    key_bias = np.random.default_rng(5).normal(size=D)
    out_0, grads_0 = _torch(x, R)
    out_b, grads_b = _torch(x, R, key_bias=key_bias)
    assert max_abs(out_0, out_b) <= 1e-13
    assert np.max(np.abs(grads_0["key.b"])) <= 1e-13 and np.max(np.abs(grads_0["query.b"])) > 1e-2
    from torch_impl.transformer import RowTransformer
    from triptych.registry import resolve
    model = RowTransformer(resolve("transformer", dict(d_model=D, heads=HEADS, ff_units=6, blocks=1, dropout=0.0))).double()
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.rand(4, T, 28, dtype=torch.float64)), torch.tensor([0, 1, 2, 3])).backward()
        opt.step()
    bias = model.encoder.layers[0].self_attn.in_proj_bias.detach()
    assert not bias[D:2 * D].any() and bias[:D].abs().max() > 1e-2  # the key bias held, the query bias trained


def test_layer_norm_epsilons_differ():
    assert torch.nn.LayerNorm(D).eps == 1e-5 and keras.layers.LayerNormalization().epsilon == 1e-3
    x = np.random.default_rng(2).normal(scale=0.05, size=(N, T, D))  # small variance: epsilon matters
    gamma, beta = np.random.default_rng(3).normal(size=D), np.random.default_rng(4).normal(size=D)
    scratch_out = LayerNorm(gamma, beta, 1e-5).forward(x)
    norm = torch.nn.LayerNorm(D).double()
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(gamma))
        norm.bias.copy_(torch.from_numpy(beta))
        torch_out = norm(torch.from_numpy(x)).numpy()
    outs = {}
    for eps in (None, 1e-5):
        layer = keras.layers.LayerNormalization(**({} if eps is None else {"epsilon": eps}), dtype="float64")
        layer.build(x.shape)
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
        outs[eps] = np.asarray(layer(x))
    assert max_abs(scratch_out, torch_out) <= 1e-12 and max_abs(outs[1e-5], torch_out) <= 1e-12
    assert max_abs(outs[None], torch_out) > 0.1  # Keras's default epsilon: another normalisation
    assert max(operation_fd_errors(LayerNorm(gamma, beta, 1e-5), x).values()) <= 1e-6


def test_gelu_exact_and_approximate():
    x = np.linspace(-6, 6, 2001)
    exact = torch.nn.GELU()(torch.from_numpy(x)).numpy()
    ours = GELU().forward(x)
    assert max_abs(ours, exact) <= 1e-15
    approx = np.asarray(keras.ops.gelu(x))  # keras.ops.gelu: approximate=True by default
    assert 1e-4 < max_abs(approx, exact) < 1e-3
    # the same tanh formula as torch's GELU(approximate="tanh"), evaluated in another order (≈ 9e-10 apart)
    assert max_abs(torch.nn.GELU(approximate="tanh")(torch.from_numpy(x)).numpy(), approx) <= 1e-8
    keras_exact = np.asarray(keras.activations.gelu(x))  # exact by default
    print(f"keras.activations.gelu (exact) vs torch nn.GELU() in float64: {max_abs(keras_exact, exact):.1e}")
    assert max_abs(keras_exact, exact) <= 1e-7
    from keras_impl.transformer import gelu
    assert max_abs(np.asarray(gelu(keras.ops.convert_to_tensor(x))), exact) <= 1e-15  # through erf: exact
    assert max(operation_fd_errors(GELU(), x.reshape(3, -1)[:, :50].copy()).values()) <= 1e-6


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_encoder_fast_path_has_its_own_numerics(dtype):
    """In eval without gradients, nn.TransformerEncoderLayer can run one fused kernel (aten::_transformer_encoder_layer_fwd)
    instead of its ops; the ladder compares the ops (``fast_path=False``, the model's default).  Measured here:
    float32 ≈ 2e-7, float64 ≈ 6e-16 on the default architecture."""
    from torch_impl.transformer import RowTransformer
    from triptych.registry import resolve
    torch.manual_seed(0)
    model = RowTransformer(resolve("transformer", {"dropout": 0.0})).to(dtype).eval()
    x = torch.rand(16, 28, 28, dtype=dtype)
    with torch.no_grad(), torch.profiler.profile() as slow:
        ops = model(x)
    model.fast_path = True
    with torch.no_grad(), torch.profiler.profile() as fast:
        fused = model(x)
    kernel = "aten::_transformer_encoder_layer_fwd"
    assert kernel in {e.name for e in fast.events()} and kernel not in {e.name for e in slow.events()}
    difference = max_abs(ops, fused)
    print(f"torch encoder fast path vs ops, {dtype}: {difference:.1e}")
    assert difference <= (1e-5 if dtype == torch.float32 else 1e-12)
    assert torch.backends.mha.get_fastpath_enabled()  # the model leaves the global switch as it found it


def test_keras_transformer_holds_its_key_bias_at_zero_through_training(keras_fw):
    small = dict(d_model=D, heads=HEADS, ff_units=6, blocks=1, max_len=T, dropout=0.0)
    net = keras_fw.build("transformer", dtype="float64", **small)
    rng = np.random.default_rng(0)
    X, y = rng.random((8, T, 28)), rng.integers(0, 10, 8)
    before = keras_fw.get_weights(net)
    keras_fw.train(net, X, y, epochs=2, batch_size=4, lr=0.1, optimizer="adam", seed=0)
    key = net.native.get_layer("block1_attention")._key_dense.bias
    assert not key.trainable and not np.asarray(key).any()
    after = keras_fw.get_weights(net)
    assert max_abs(after["block1.attention.query.b"], before["block1.attention.query.b"]) > 1e-2  # trained
