"""Any torch model and its Keras port, proven equal rung by rung (``triptych.compare``) or copied (``triptych.transfer``).

Layers are paired by kind in order: the torch modules of a known kind (torch_impl/layer_kinds.py) in the order one
forward pass calls them (forward hooks), the Keras layers (keras_impl/layer_kinds.py) in the model's layer order
(nested layers included); a torch RNN/LSTM/GRU of L stacked layers takes L Keras layers, bidirectional ones
``Bidirectional``.  Each pair's weights go through the one conversion of its kind to the canonical layout, so the
copy either way is exact; the first Dense after a Flatten of a convolution's output has its rows permuted
((C, H, W) ↔ (H, W, C)).  Nothing here imports torch or Keras at import time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class Pair:
    """One torch module ↔ one or more Keras layers (a stacked recurrent module: one per layer), of one kind;
    ``shapes``: the canonical shape of each weight; ``flatten`` / ``unflatten``: the channel count of a (C, H, W)
    flatten before a Dense (its rows permuted) / a reshape to (C, H, W) after it (its columns and bias permuted)."""

    torch_name: str
    module: object
    layers: list
    kind: str
    shapes: dict = field(default_factory=dict)
    flatten: int | None = None
    unflatten: int | None = None

    @property
    def recurrent(self) -> bool:
        """An RNN, LSTM or GRU: one Keras layer per stacked layer, its weights named ``l<k>.…``."""
        from torch_impl.layer_kinds import RECURRENT

        return self.kind in RECURRENT

    @property
    def keras_name(self) -> str:
        return "+".join(layer.name for layer in self.layers)

    def __str__(self) -> str:
        shapes = ", ".join(f"{k} {v}" for k, v in self.shapes.items())
        return f"{self.torch_name or '(model)'} ↔ {self.keras_name} ({self.kind}: {shapes})"


def torch_call_order(model, X) -> list:
    """[(name, module, kind)] of the modules of a known kind, in the order one forward pass of ``X`` first calls
    them (a module inside a module of a known kind is its parent's business: MultiheadAttention's out_proj).  The
    pass runs on a deep copy in training mode (no inference fast path skips a module), so the model's BatchNorm
    statistics stay as they are."""
    import copy

    import torch

    from torch_impl import layer_kinds

    probe = copy.deepcopy(model).train()
    named = {m: n for n, m in probe.named_modules()}
    known = {m: layer_kinds.kind(m) for m in named if layer_kinds.kind(m)}
    inner = {c for m in known for c in m.modules() if c is not m}
    order = []
    for m in known:
        if m not in inner:
            m.register_forward_hook(lambda mod, args, out: order.append(mod) if mod not in order else None)
    with torch.no_grad():
        probe(X)
    modules = dict(model.named_modules())
    return [(named[m], modules[named[m]], known[m]) for m in order]


def keras_layers(model) -> list:
    """Every layer in model order, nested models and custom layers opened (a layer of a known kind is not: its
    sublayers are its own)."""
    from keras_impl import layer_kinds

    out = []
    for layer in getattr(model, "layers", None) or model._flatten_layers(include_self=False, recursive=False):
        out.append(layer)
        if layer_kinds.kind(layer) is None:
            out.extend(keras_layers(layer))
    return out


def _flatten_channels(layers: list, index: int) -> int | None:
    """The channel count C when the layer at ``index`` (a Dense) reads a Flatten of a convolution's (…, C) output."""
    from keras_impl import layer_kinds

    i = index - 1
    while i >= 0 and type(layers[i]).__name__ == "Dropout":
        i -= 1
    if i < 0 or type(layers[i]).__name__ != "Flatten":
        return None
    if not any(layer_kinds.kind(l) in ("conv1d", "conv2d", "conv2d_transpose", "pool") for l in layers[:i]):
        return None
    shape = tuple(layers[i].input.shape)
    return int(shape[-1]) if len(shape) >= 3 else None


def _unflatten_channels(layers: list, index: int) -> int | None:
    """The channel count C when the Dense at ``index`` feeds a Reshape to (…, C) that a convolution reads."""
    from keras_impl import layer_kinds

    nxt = layers[index + 1] if index + 1 < len(layers) else None
    if type(nxt).__name__ != "Reshape" or len(nxt.target_shape) < 2:
        return None
    later = layers[index + 2:]
    return int(nxt.target_shape[-1]) if any(layer_kinds.kind(l) in ("conv1d", "conv2d", "conv2d_transpose")
                                            for l in later) else None


def pair_layers(torch_model, keras_model, X, pairs=None) -> list[Pair]:
    """The pairs, automatic or from ``pairs=[(torch module name, Keras layer name or names), …]``; a layer left
    unpaired, or a pair whose kinds or canonical shapes differ, is a ValueError naming both sides."""
    from keras_impl import layer_kinds as kk
    from torch_impl import layer_kinds as tk

    weighted = [r for r in torch_call_order(torch_model, X) if r[2] not in ("activation", "pool")]
    every = keras_layers(keras_model)
    layers = [l for l in every if kk.kind(l) not in (None, "activation", "pool")]
    if pairs is not None:
        by_name = {l.name: l for l in every}
        modules = dict(torch_model.named_modules())
        rows = []
        for t, k in pairs:
            names = [k] if isinstance(k, str) else list(k)
            missing = [n for n in names if n not in by_name] + ([t] if t not in modules else [])
            if missing:
                raise ValueError(f"pairs=: no torch module or Keras layer named {', '.join(map(repr, missing))}")
            rows.append(Pair(t, modules[t], [by_name[n] for n in names], "", {}))
    else:  # the i-th torch module of a kind with the i-th Keras layer of that kind (a residual branch's order
        rows, queues = [], {}  # may differ between torch's calls and Keras's graph)
        for layer in layers:
            queues.setdefault(kk.kind(layer), []).append(layer)
        for name, module, kind in weighted:
            count = module.num_layers if kind in tk.RECURRENT else 1  # one Keras layer per stacked layer
            queue = queues.get(kind, [])
            if len(queue) < count:
                raise ValueError(f"torch module {name!r} ({type(module).__name__}, kind {kind}) has no Keras layer to "
                                 f"pair with: the Keras model has no {'more ' if kind in queues else ''}{kind} layers")
            rows.append(Pair(name, module, queue[:count], kind, {}))
            del queue[:count]
        left = [l for queue in queues.values() for l in queue]
        if left:
            raise ValueError(f"Keras layer(s) {', '.join(f'{l.name!r} ({kk.kind(l)})' for l in left)} have no torch "
                             f"module to pair with (torch called {len(weighted)} weighted modules)")
    for p in rows:
        _check(p, every)
    return rows


def _check(p: Pair, every: list) -> None:
    """The kinds agree, bidirectional on both sides or neither, and every canonical shape is equal."""
    from keras_impl import layer_kinds as kk
    from torch_impl import layer_kinds as tk

    kinds = {tk.kind(p.module), *(kk.kind(l) for l in p.layers)}
    where = f"torch module {p.torch_name!r} ({type(p.module).__name__}) and Keras layer {p.keras_name!r}"
    if len(kinds) != 1:
        raise ValueError(f"{where} are of different kinds ({', '.join(sorted(map(str, kinds)))}); expected one "
                         f"kind: reorder the layers or pass pairs=")
    p.kind = kinds.pop()
    if p.recurrent:
        bi = [type(l).__name__ == "Bidirectional" for l in p.layers]
        if any(b != p.module.bidirectional for b in bi):
            raise ValueError(f"{where}: torch bidirectional={p.module.bidirectional}, Keras "
                             f"{'Bidirectional' if any(bi) else 'not Bidirectional'}; expected the same")
    if p.kind == "dense":
        p.flatten = _flatten_channels(every, every.index(p.layers[0]))
        p.unflatten = _unflatten_channels(every, every.index(p.layers[0]))
    theirs = {k: tuple(v.shape) for k, v in keras_canonical(p).items()}
    ours = {k: tuple(v.shape) for k, v in torch_canonical(p).items()}
    if set(theirs) != set(ours) or any(theirs[k] != ours[k] for k in ours):
        diff = [f"{k}: torch {ours.get(k)}, Keras {theirs.get(k)}" for k in sorted(set(ours) | set(theirs))
                if ours.get(k) != theirs.get(k)]
        raise ValueError(f"{where} do not match in the canonical layout: {'; '.join(diff)}")
    p.shapes = ours


def torch_canonical(p: Pair, tensors: dict | None = None) -> dict:
    """The pair's canonical NumPy arrays from the module's state_dict (or ``tensors``, e.g. its gradients)."""
    import torch

    from torch_impl import convert, layer_kinds

    tensors = dict(p.module.state_dict()) if tensors is None else tensors
    tensors = {k: v for k, v in tensors.items() if k != "num_batches_tracked"}
    out = layer_kinds.to_canonical(p.module, tensors)
    if p.flatten:
        out["W"] = convert.chw_to_hwc_columns(out["W"].T, p.flatten).T
    if p.unflatten:
        out = {k: convert.chw_to_hwc_columns(v if k == "W" else v[None], p.unflatten) for k, v in out.items()}
        out["b"] = out["b"][0] if "b" in out else None
        out = {k: v for k, v in out.items() if v is not None}
    return {k: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v for k, v in out.items()}


def set_torch(p: Pair, weights: dict) -> None:
    import torch

    from torch_impl import convert, layer_kinds

    dtype = next(iter(p.module.state_dict().values())).dtype
    w = {k: torch.as_tensor(np.asarray(v), dtype=dtype) for k, v in weights.items()}
    if p.flatten:
        w["W"] = convert.hwc_to_chw_columns(w["W"].T, p.flatten).T
    if p.unflatten:
        w = {k: convert.hwc_to_chw_columns(v if k == "W" else v[None], p.unflatten) for k, v in w.items()}
        w = {k: v if k == "W" else v[0] for k, v in w.items()}
    state = layer_kinds.from_canonical(p.module, w)
    with torch.no_grad():
        for name, tensor in p.module.state_dict(keep_vars=True).items():
            if name in state:
                tensor.copy_(state[name])


def _keras_groups(p: Pair) -> list[tuple[str, object]]:
    return [(f"l{i}." if p.recurrent else "", layer) for i, layer in enumerate(p.layers)]


def keras_variables(p: Pair) -> dict:
    """{canonical name: keras.Variable} of the pair (attention's in their own shapes)."""
    from keras_impl import layer_kinds

    return {prefix + k: v for prefix, layer in _keras_groups(p) for k, v in layer_kinds.variables(layer).items()}


def keras_canonical(p: Pair, arrays: dict | None = None) -> dict:
    """The pair's canonical arrays from its Keras variables (or ``arrays`` shaped like them: gradients)."""
    import keras

    from keras_impl import layer_kinds

    out = {}
    for prefix, layer in _keras_groups(p):
        names = layer_kinds.variables(layer)
        values = {k: keras.ops.convert_to_numpy(v) if arrays is None else arrays[prefix + k]
                  for k, v in names.items() if arrays is None or prefix + k in arrays}
        out.update({prefix + k: v for k, v in layer_kinds.to_canonical(layer, values).items()})
    return out


def set_keras(p: Pair, weights: dict) -> None:
    from keras_impl import layer_kinds

    for prefix, layer in _keras_groups(p):
        local = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        for k, value in layer_kinds.from_canonical(layer, local).items():
            variable = layer_kinds.variables(layer)[k]
            variable.assign(np.asarray(value, dtype=variable.dtype))


def transfer(src, dst, X=None, pairs=None) -> list[Pair]:
    """Copy every paired layer's weights and state from ``src`` to ``dst`` (torch → Keras or Keras → torch), exact.

    ``X``: one input as the torch model takes it, for the call order (default: a batch of 2 of the torch model's
    first layer's input shape where it has one).  An RNN's or LSTM's two torch biases go to Keras as their sum;
    back, the sum goes to ``bias_ih`` and ``bias_hh`` is zero.  Returns the pairs."""
    torch_model, keras_model, to_keras = _sides(src, dst)
    X = example_input(torch_model, keras_model) if X is None else X
    found = pair_layers(torch_model, keras_model, _torch_input(torch_model, X), pairs)
    for p in found:
        if to_keras:
            set_keras(p, torch_canonical(p))
        else:
            set_torch(p, keras_canonical(p))
    return found


def _sides(src, dst):
    import torch

    if isinstance(src, torch.nn.Module) and not isinstance(dst, torch.nn.Module):
        return src, dst, True
    if isinstance(dst, torch.nn.Module) and not isinstance(src, torch.nn.Module):
        return dst, src, False
    raise ValueError(f"transfer(src, dst): expected one torch.nn.Module and one keras.Model, got "
                     f"{type(src).__name__} and {type(dst).__name__}")


def _torch_input(torch_model, X):
    import torch

    dtype = next(torch_model.parameters()).dtype
    X = np.asarray(X)
    return torch.as_tensor(X, dtype=dtype if np.issubdtype(X.dtype, np.floating) else torch.long)


def example_input(torch_model, keras_model, batch: int = 2, seed: int = 0) -> np.ndarray:
    """A seeded standard-normal batch shaped as the Keras model's input (an unknown length 5), moved to channels
    first for a 4-D one."""
    shape = tuple(5 if d is None else d for d in keras_model.inputs[0].shape[1:])  # a sequence: 5 steps
    X = np.random.default_rng(seed).standard_normal((batch, *shape))
    return np.moveaxis(X, -1, 1) if len(shape) == 3 else X
