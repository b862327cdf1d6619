"""Keras layers by layer kind, each with its variables in the canonical layout (the kinds of torch_impl/layer_kinds.py).

Keras's own layouts are the canonical ones (Dense (in, out), Conv1D (k, in, out), Conv2D (kh, kw, in, out),
Conv2DTranspose (kh, kw, out, in), LSTM (in, 4u) gates i, f, g, o, GRU (in, 3u) gates z, r, h with a (2, 3u) bias),
so ``variables(layer)`` names them locally (``W``, ``b``, ``gamma``, ``moving_mean`` …; a Bidirectional's
``forward.W`` …) and only multi-head attention reshapes: ``to_canonical`` (d, h, k) → (d, d), (h, k) → (d,),
the output kernel (h, k, d) → (d, d); ``from_canonical`` back, to the variables' shapes.
"""
from __future__ import annotations

import keras
import numpy as np

L = keras.layers
WEIGHTED = {L.Dense: "dense", L.Conv1D: "conv1d", L.Conv2D: "conv2d", L.Conv2DTranspose: "conv2d_transpose",
            L.BatchNormalization: "batchnorm", L.LayerNormalization: "layernorm", L.Embedding: "embedding",
            L.SimpleRNN: "rnn", L.LSTM: "lstm", L.GRU: "gru", L.MultiHeadAttention: "attention"}
PARAMETER_FREE = {L.Activation: "activation", L.ReLU: "activation", L.LeakyReLU: "activation", L.ELU: "activation",
                  L.Softmax: "activation", L.MaxPooling1D: "pool", L.MaxPooling2D: "pool", L.AveragePooling1D: "pool",
                  L.AveragePooling2D: "pool"}


def kind(layer) -> str | None:
    """A layer's kind; a Bidirectional takes its layer's ("lstm" …); a Conv2DTranspose is checked before Conv2D
    (it subclasses it)."""
    if isinstance(layer, L.Bidirectional):
        return kind(layer.forward_layer)
    for cls in type(layer).__mro__:
        if cls in WEIGHTED:
            return WEIGHTED[cls]
        if cls in PARAMETER_FREE:
            return PARAMETER_FREE[cls]
    return None


def _cell(layer, prefix: str = "") -> dict:
    cell = layer.cell
    if kind(layer) == "gru" and not cell.reset_after:
        raise ValueError(f"Keras GRU {layer.name!r} has reset_after=False: another model than torch's GRU (which "
                         f"resets after the recurrent matmul); build it with reset_after=True")
    out = {f"{prefix}W": cell.kernel, f"{prefix}U": cell.recurrent_kernel}
    return {**out, f"{prefix}b": cell.bias} if cell.use_bias else out


def variables(layer) -> dict:
    """{canonical local name: keras.Variable}, the trainable weights and the state (BatchNorm's moving statistics)."""
    k = kind(layer)
    if isinstance(layer, L.Bidirectional):
        return {**_cell(layer.forward_layer, "forward."), **_cell(layer.backward_layer, "backward.")}
    if k in ("rnn", "lstm", "gru"):
        return _cell(layer)
    if k == "embedding":
        return {"E": layer.embeddings}
    if k in ("batchnorm", "layernorm"):
        names = {"gamma": layer.gamma, "beta": layer.beta}
        if k == "batchnorm":
            names.update(moving_mean=layer.moving_mean, moving_variance=layer.moving_variance)
        return {n: v for n, v in names.items() if v is not None}
    if k == "attention":
        parts = {"query": layer._query_dense, "key": layer._key_dense, "value": layer._value_dense,
                 "out": layer._output_dense}
        out = {f"{p}.W": d.kernel for p, d in parts.items()}
        return {**out, **{f"{p}.b": d.bias for p, d in parts.items() if d.bias is not None}}
    out = {"W": layer.kernel}
    return {**out, "b": layer.bias} if layer.use_bias else out


def attention_to_canonical(name: str, array: np.ndarray) -> np.ndarray:
    """One MultiHeadAttention array → canonical: the query/key/value kernels (d, h, k) → (d, d), their biases
    (h, k) → (d,) (head j owns columns [j·k, (j+1)·k)), the output kernel (h, k, d) → (d, d), its bias as is."""
    if name.endswith("out.W"):
        return array.reshape(-1, array.shape[-1])
    return array.reshape(array.shape[0], -1) if array.ndim == 3 else array.reshape(-1)


def to_canonical(layer, arrays: dict) -> dict:
    """Arrays shaped like :func:`variables` → canonical (attention's kernels and biases flattened, exact)."""
    if kind(layer) != "attention":
        return dict(arrays)
    return {n: attention_to_canonical(n, a) for n, a in arrays.items()}


def from_canonical(layer, weights: dict) -> dict:
    """The inverse of :func:`to_canonical`, to the variables' own shapes."""
    shapes = {n: tuple(v.shape) for n, v in variables(layer).items()}
    return {n: np.reshape(weights[n], shapes[n]) for n in shapes}


def activation_name(layer) -> str:
    """The name of the activation a layer applies on its way out ("linear" for none)."""
    fn = getattr(layer, "activation", None)
    return getattr(fn, "__name__", str(fn)) if fn is not None else "linear"


def describe(layer) -> dict:
    """The settings a trap hides in (epsilon, momentum, padding, strides, activation)."""
    config = layer.get_config()
    keys = ("epsilon", "momentum", "padding", "strides", "activation", "approximate", "reset_after", "use_bias")
    return {k: config[k] for k in keys if k in config}
