"""The first layer where a torch model and its Keras port part, with the likely trap (docs/conventions.md).

Pair by pair in torch's call order (the weighted pairs, and the parameter-free ones, activations and pooling, where
both sides have as many of a kind): the canonical weights, then each pair's output from one input in inference and
in training mode, then its state after one training pass (BatchNorm's moving mean).  The first figure beyond
rung 1's tolerance (scaled by the output's size where above 1) is the divergence.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from porting import pairing
from triptych.parity import max_abs
from triptych.tolerances import TOLERANCES


@dataclass
class Divergence:
    torch_layer: str
    keras_layer: str
    value: float
    what: str  # "weights", "inference output", "training output", "state after a training pass"
    hint: str | None

    def __str__(self) -> str:
        hint = f"; likely: {self.hint}" if self.hint else ""
        return (f"first divergence: torch {self.torch_layer!r} ↔ Keras {self.keras_layer!r}, {self.what} "
                f"{self.value:.3g} apart{hint}")


def _free_pairs(s, order: list) -> list:
    """Parameter-free torch modules ↔ Keras layers of the same kind ("activation", "pool"), by order, where both
    sides have as many of that kind (else none of it: there is no telling which goes with which); ``order``:
    torch's call order (pairing.torch_call_order)."""
    from keras_impl import layer_kinds as kk

    rows = [r for r in order if r[2] in ("activation", "pool")]
    layers = [l for l in pairing.keras_layers(s.keras) if kk.kind(l) in ("activation", "pool")]
    out = []
    for kind in ("activation", "pool"):
        t, k = [r for r in rows if r[2] == kind], [l for l in layers if kk.kind(l) == kind]
        if len(t) == len(k):
            out += [pairing.Pair(name, module, [layer], kind) for (name, module, _), layer in zip(t, k)]
    return out


def _ordered(s, free: list, order: list) -> list:
    rank = {name: i for i, (name, _, _) in enumerate(order)}
    return sorted([*s.pairs, *free], key=lambda p: rank.get(p.torch_name, len(rank)))


def _outputs(s, pairs: list, train: bool) -> tuple[dict, dict]:
    """{torch name: torch module output}, {torch name: Keras layer output} from one forward pass each."""
    import keras

    torch_out, keras_out, handles = {}, {}, []

    def first(out):
        return out[0] if isinstance(out, (tuple, list)) else out

    for p in pairs:
        def hook(mod, args, out, _name=p.torch_name):  # returns None: the output stays as it is
            torch_out.setdefault(_name, first(out).detach().numpy())
        handles.append(p.module.register_forward_hook(hook))
        layer = p.layers[-1]

        def wrapped(*args, _call=layer.call, _name=p.torch_name, **kwargs):
            out = _call(*args, **kwargs)
            keras_out.setdefault(_name, keras.ops.convert_to_numpy(first(out)))
            return out
        layer.call = wrapped
    try:
        s.torch_forward(train)
        s.keras_forward(train)
    finally:
        for h in handles:
            h.remove()
        for p in pairs:
            del p.layers[-1].call
    return torch_out, keras_out


IMAGE_KINDS = ("conv1d", "conv2d", "conv2d_transpose", "batchnorm", "pool", "activation")


def channels_last(s) -> bool:
    """Whether the Keras model's convolutions hold their images channels last (then so do its BatchNorms,
    activations and pools between them, whatever their shapes say: 8 channels of 8 × 8 read alike either way)."""
    from keras_impl import layer_kinds as kk

    return any(getattr(l, "data_format", None) == "channels_last" for l in pairing.keras_layers(s.keras)
               if kk.kind(l) in ("conv1d", "conv2d", "conv2d_transpose"))


def _aligned(p, t: np.ndarray, k: np.ndarray, images_last: bool) -> np.ndarray | None:
    """The torch output in the Keras layer's terms: channels last, a recurrent sequence's last step (both
    directions' ends for a bidirectional one), the Keras layer's activation applied; None where it cannot be."""
    import keras

    from keras_impl import layer_kinds as kk

    if p.recurrent and t.ndim == 3 and k.ndim == 2:
        u = t.shape[-1] // 2
        t = np.concatenate([t[:, -1, :u], t[:, 0, u:]], axis=-1) if p.module.bidirectional else t[:, -1]
    elif t.ndim >= 3 and np.moveaxis(t, 1, -1).shape == k.shape and (images_last and p.kind in IMAGE_KINDS
                                                                      or t.shape != k.shape):
        t = np.moveaxis(t, 1, -1)
    if t.shape != k.shape:
        return None
    if p.kind not in ("activation", "pool") and kk.activation_name(p.layers[-1]) != "linear":
        t = keras.ops.convert_to_numpy(p.layers[-1].activation(keras.ops.convert_to_tensor(t)))
    return t


def _gate_hint(p, ours: dict, theirs: dict) -> str | None:
    """A permutation of the gate blocks of the torch weights that gives the Keras ones: the gate order."""
    from torch_impl.layer_kinds import GATES

    gates = GATES.get(p.kind)
    for name, a in ours.items():
        b = theirs[name]
        if gates and name.rsplit(".", 1)[-1] in ("W", "U", "b") and max_abs(a, b) > 0:
            blocks = np.split(a, gates, axis=-1)
            for perm in itertools.permutations(range(gates)):
                if perm != tuple(range(gates)) and np.array_equal(np.concatenate([blocks[i] for i in perm], -1), b):
                    return (f"gate order: the Keras {name} holds the torch gate blocks in the order {perm}; torch's "
                            f"GRU is r, z, n, Keras's z, r, h (an LSTM is i, f, g, o in both)")
    return None


def _hint(p, what: str, ours: dict | None = None, theirs: dict | None = None, before=None) -> str | None:
    """The likely trap at pair ``p`` (``before``: the pair before it, whose Keras activation its input went
    through)."""
    from keras_impl import layer_kinds as kk
    from torch_impl import layer_kinds as tk

    t, k = tk.describe(p.module), kk.describe(p.layers[-1])
    if what == "weights":
        if p.recurrent:
            gate = _gate_hint(p, ours, theirs)
            if gate:
                return gate
            if p.kind in tk.FOLDED:
                return "bias folding: torch's bias_ih + bias_hh is Keras's one bias"
        if p.flatten:
            return "flatten order: torch flattens (C, H, W), Keras (H, W, C): the Dense rows need permuting"
        return None
    if p.kind in ("layernorm", "batchnorm") and not np.isclose(t.get("eps"), k.get("epsilon")):
        return f"epsilon: torch eps={t['eps']:g}, Keras epsilon={k['epsilon']:g}"
    if p.kind == "batchnorm" and not np.isclose(t.get("momentum") or 0.0, 1 - k["momentum"]):
        return (f"momentum: torch momentum={t['momentum']:g} is Keras momentum={1 - t['momentum']:g} "
                f"(1 − m), the Keras layer has {k['momentum']:g}")
    if p.kind in ("conv1d", "conv2d") and k.get("padding") == "same" and max(np.atleast_1d(k["strides"])) > 1:
        return (f"padding asymmetry: Keras padding='same' at strides {k['strides']} puts the odd pixel after "
                f"(bottom/right), torch padding={t['padding']} pads both sides alike")
    if p.kind == "conv2d_transpose":
        return (f"transposed-conv cropping: torch padding={t['padding']} crops and output_padding="
                f"{t.get('output_padding')} adds at the bottom/right; Keras padding={k.get('padding')!r}")
    gelus = [q for q in (p, before) if q is not None and (type(q.module).__name__ == "GELU"
                                                          or "gelu" in kk.activation_name(q.layers[-1]).lower())]
    if gelus:
        return ("GELU approximation: torch nn.GELU() is exact (erf) unless approximate='tanh'; keras.ops.gelu "
                "defaults to the tanh approximation (≈ 5e-4 apart); in float64 TensorFlow's own exact GELU is ≈ 5e-9 off erf's")
    if p.recurrent:
        return "gate order or bias folding in the recurrent weights"
    if p.flatten:
        return "flatten order: torch flattens (C, H, W), Keras (H, W, C)"
    return None


def first_divergence(s) -> Divergence | None:
    """The first :class:`Divergence` of ``s`` (a porting.ladder.Session), or None where every pair agrees."""
    limit = TOLERANCES[s.dtype][1][0]
    order = pairing.torch_call_order(s.torch, s.X_torch)  # one probing pass for both
    pairs = _ordered(s, _free_pairs(s, order), order)
    s.reset()
    figures, images_last = {p.torch_name: [] for p in pairs}, channels_last(s)
    for p in s.pairs:
        ours, theirs = pairing.torch_canonical(p), pairing.keras_canonical(p)
        value = max(max_abs(ours[n], theirs[n]) for n in ours if not n.endswith("moving_variance"))
        figures[p.torch_name].append(("weights", value, limit, (ours, theirs)))
    for train in (False, True):
        s.reset()
        torch_out, keras_out = _outputs(s, pairs, train)
        for p in pairs:
            if p.torch_name in torch_out and p.torch_name in keras_out:
                t = _aligned(p, torch_out[p.torch_name], keras_out[p.torch_name], images_last)
                if t is not None:
                    k = keras_out[p.torch_name]
                    scale = max(1.0, float(np.max(np.abs(k), initial=0.0)))
                    figures[p.torch_name].append((f"{'training' if train else 'inference'} output", max_abs(t, k),
                                                  limit * scale, None))
    for p in s.pairs:  # the state after the one training pass just made
        if p.kind == "batchnorm":
            ours, theirs = pairing.torch_canonical(p), pairing.keras_canonical(p)
            figures[p.torch_name].append(("state after a training pass", max_abs(ours["moving_mean"],
                                                                                 theirs["moving_mean"]), limit, None))
    s.reset()
    for i, p in enumerate(pairs):
        for what, value, bound, arrays in figures[p.torch_name]:
            if not value <= bound:
                hint = _hint(p, what, *(arrays or (None, None)), before=pairs[i - 1] if i else None)
                return Divergence(p.torch_name, p.keras_name, value, what, hint)
    return None
