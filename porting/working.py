"""The working copies ``triptych.compare`` runs on: the user's torch model and Keras model rebuilt in float64 where
both can be (torch ``.double()`` on a deep copy; Keras by cloning its serialized config with a float64 dtype policy),
dropout off in both (no two frameworks share a mask), the user's own models left untouched.
"""
from __future__ import annotations

import copy

import numpy as np

DROPOUT_KEYS = {"Dropout": "rate", "SpatialDropout1D": "rate", "SpatialDropout2D": "rate",
                "MultiHeadAttention": "dropout"}


def torch_copy(model, dtype: str):
    """A deep copy in ``dtype`` with every nn.Dropout and MultiheadAttention's dropout at 0."""
    import torch
    from torch import nn

    work = copy.deepcopy(model).to(getattr(torch, dtype))
    for m in work.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
        elif isinstance(m, nn.MultiheadAttention):
            m.dropout = 0.0
    return work


def _retyped(obj, dtype: str):
    """A serialized Keras config with every float dtype (and dtype policy) ``dtype`` and every dropout rate 0."""
    if isinstance(obj, list):
        return [_retyped(v, dtype) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: _retyped(v, dtype) for k, v in obj.items()}
    if isinstance(out.get("dtype"), str) and out["dtype"].startswith(("float", "bfloat")):
        out["dtype"] = dtype
    if out.get("class_name") == "DTypePolicy" and isinstance(out.get("config"), dict):
        out["config"] = {**out["config"], "name": dtype}
    if out.get("class_name") in DROPOUT_KEYS and isinstance(out.get("config"), dict):
        out["config"] = {**out["config"], DROPOUT_KEYS[out["class_name"]]: 0.0}
    return out


def keras_copy(model, dtype: str):
    """(copy, None) with the weights cast to ``dtype``, or (None, why) where the model cannot be rebuilt from its
    config (a subclassed model without get_config)."""
    import keras

    from porting.pairing import keras_layers

    layers = keras_layers(model)
    custom = {type(layer).__name__: type(layer) for layer in layers}
    custom[type(model).__name__] = type(model)
    custom.update({fn.__name__: fn for fn in (getattr(layer, "activation", None) for layer in layers)
                   if callable(fn) and not fn.__module__.startswith("keras")})  # a model's own activation function
    try:
        config = _retyped(keras.saving.serialize_keras_object(model), dtype)
        with keras.saving.custom_object_scope(custom):
            clone = keras.saving.deserialize_keras_object(config)
        clone.set_weights([np.asarray(w, dtype=dtype) if np.issubdtype(np.asarray(w).dtype, np.floating) else w
                           for w in model.get_weights()])
    except Exception as exc:  # noqa: BLE001 — any failure to rebuild means: run on the model as it is
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    for ours, theirs in zip(keras_layers(clone), layers):  # a model's own activation function is serialized by
        if hasattr(theirs, "activation"):                  # name only, and Keras's of that name comes back
            ours.activation = theirs.activation
    return clone, None


def in_place(model):
    """Dropout off in the user's own Keras model, for a model that cannot be copied; returns the function that puts
    its weights and dropout rates back."""
    from porting.pairing import keras_layers

    weights = [np.array(w) for w in model.get_weights()]
    rates = {layer: getattr(layer, key) for layer in keras_layers(model)
             for name, key in DROPOUT_KEYS.items() if type(layer).__name__ == name}
    for layer, key in ((layer, DROPOUT_KEYS[type(layer).__name__]) for layer in rates):
        setattr(layer, key, 0.0)

    def restore():
        model.set_weights(weights)
        for layer, rate in rates.items():
            setattr(layer, DROPOUT_KEYS[type(layer).__name__], rate)
    return restore
