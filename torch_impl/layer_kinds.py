"""torch modules by layer kind, each with its conversion to and from the canonical layout (torch_impl/convert.py).

``kind(module)`` names a module's kind ("dense", "conv1d", "conv2d", "conv2d_transpose", "batchnorm", "layernorm",
"embedding", "rnn", "lstm", "gru", "attention"; "activation" and "pool" for parameter-free modules; None for any
other).  ``to_canonical(module, tensors)`` turns tensors named as the module's own ``state_dict`` (its parameters,
its gradients, its buffers) into the canonical arrays with local names (``W``, ``b``, ``gamma``, ``moving_mean`` …;
a recurrent module's layer k as ``l<k>.[forward.|backward.]W``); ``from_canonical(module, weights)`` is the inverse,
a ``state_dict`` for ``module.load_state_dict``.  Each is a call to the one conversion of its kind in convert.py.
"""
from __future__ import annotations

import torch
from torch import nn

from torch_impl import convert

WEIGHTED = {nn.Linear: "dense", nn.Conv1d: "conv1d", nn.Conv2d: "conv2d", nn.ConvTranspose2d: "conv2d_transpose",
            nn.BatchNorm1d: "batchnorm", nn.BatchNorm2d: "batchnorm", nn.LayerNorm: "layernorm",
            nn.Embedding: "embedding", nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru",
            nn.MultiheadAttention: "attention"}
PARAMETER_FREE = {nn.ReLU: "activation", nn.GELU: "activation", nn.Tanh: "activation", nn.Sigmoid: "activation",
                  nn.Softmax: "activation", nn.LeakyReLU: "activation", nn.ELU: "activation", nn.SiLU: "activation",
                  nn.MaxPool1d: "pool", nn.MaxPool2d: "pool", nn.AvgPool1d: "pool", nn.AvgPool2d: "pool",
                  nn.AdaptiveAvgPool2d: "pool"}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # the recurrent kinds and their gate blocks (one Keras layer per stacked layer)
RECURRENT = tuple(GATES)
FOLDED = ("rnn", "lstm")  # bias_ih + bias_hh only ever appear as their sum: one canonical bias


def kind(module: nn.Module) -> str | None:
    for cls in type(module).__mro__:
        if cls in WEIGHTED:
            return WEIGHTED[cls]
        if cls in PARAMETER_FREE:
            return PARAMETER_FREE[cls]
    return None


def _layers(module) -> dict[int, str]:
    return {k: f"l{k}" for k in range(module.num_layers)}


def _local(fn, tensors: dict, *args, strip: bool = True) -> dict:
    """Call a convert.py function written for prefixed names with a module's own names: "m.weight" in, "c.W" out
    ("c." stripped; a recurrent one's names are its layers' own, "l0.W")."""
    out = fn({f"m.{k}": v for k, v in tensors.items()}, *args)
    return {k.split(".", 1)[1] if strip else k: v for k, v in out.items()}


_TO = {"dense": convert.linear_to_canonical, "conv1d": convert.conv1d_to_canonical,
       "batchnorm": convert.batchnorm_to_canonical, "layernorm": convert.layer_norm_to_canonical}


def to_canonical(module: nn.Module, tensors: dict) -> dict:
    """``tensors`` (the module's state_dict names, a subset is fine for gradients) → canonical local names."""
    k = kind(module)
    if k in ("conv2d", "conv2d_transpose"):
        fn = convert.conv_to_canonical if k == "conv2d" else convert.conv_transpose_to_canonical
        if "bias" not in tensors:
            return _local(convert.conv_kernel_to_canonical, tensors, "m", "c")
        return _local(fn, tensors, "m", "c")
    if k == "embedding":
        return {"E": tensors["weight"]}
    if k == "attention":
        if not module._qkv_same_embed_dim or module.in_proj_bias is None:
            raise ValueError("nn.MultiheadAttention with kdim/vdim other than embed_dim, or bias=False, has no packed "
                             "in_proj_weight and in_proj_bias: expected the packed form (the one conversion of its kind)")
        out = _local(convert.attention_to_canonical, tensors, "m", "c")
        return {**out, "key.b": tensors["in_proj_bias"].chunk(3)[1]}
    if k in ("rnn", "lstm"):
        return _local(convert.lstm_to_canonical, tensors, "m", _layers(module), strip=False)
    if k == "gru":
        return _local(convert.gru_to_canonical, tensors, "m", _layers(module), strip=False)
    return _local(_TO[k], tensors, "m", "c")


def from_canonical(module: nn.Module, weights: dict) -> dict:
    """Canonical local names → the module's state_dict names (a folded recurrent bias all in ``bias_ih``)."""
    k, w = kind(module), {f"c.{name}": v for name, v in weights.items()}
    if k in ("rnn", "lstm", "gru"):
        fn = convert.gru_from_canonical if k == "gru" else convert.lstm_from_canonical
        out = fn({name[2:]: v for name, v in w.items()}, "m", _layers(module), module.bidirectional)
    elif k == "embedding":
        return {"weight": weights["E"]}
    elif k == "attention":
        out = convert.attention_from_canonical(w, "c", "m")
        q, _, v = out["m.in_proj_bias"].chunk(3)
        out["m.in_proj_bias"] = torch.cat([q, weights["key.b"], v])
    elif k in ("conv2d", "conv2d_transpose") and "b" not in weights:
        out = convert.conv_kernel_from_canonical(w, "c", "m")
    else:
        fn = {"dense": convert.linear_from_canonical, "conv1d": convert.conv1d_from_canonical,
              "conv2d": convert.conv_from_canonical, "conv2d_transpose": convert.conv_transpose_from_canonical,
              "batchnorm": convert.batchnorm_from_canonical, "layernorm": convert.layer_norm_from_canonical}[k]
        out = fn(w, "c", "m")
    return {name.split(".", 1)[1]: v for name, v in out.items()}


def fold_bias(module: nn.Module) -> bool:
    """An RNN's or LSTM's ``bias_hh`` folded into ``bias_ih``, then held at zero and frozen (canonical: one bias,
    trained at Keras's speed; DESIGN.md's conventions).  Returns whether anything was folded."""
    if kind(module) not in FOLDED or not module.bias:
        return False
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith("bias_hh"):
                getattr(module, name.replace("bias_hh", "bias_ih")).add_(p)
                p.zero_()
                p.requires_grad_(False)
    return True


def describe(module: nn.Module) -> dict:
    """The settings a trap hides in: eps, momentum, padding, stride, approximation, bias."""
    keys = ("eps", "momentum", "padding", "stride", "approximate", "num_layers", "bidirectional", "output_padding")
    return {k: getattr(module, k) for k in keys if hasattr(module, k)}
