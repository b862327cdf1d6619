"""XOR in Keras 3: 2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1 — the classic Keras example.

Sections, as in scratch/xor.py and torch_impl/xor.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["xor_data", "build", "loss", "train", "canonical_variables"]

import keras

from keras_impl import training

# ---- data: the four XOR points, X (4, 2) float, y (4, 1) in {0, 1}; fit reads them as the shared batches
from triptych.data import xor_data


# ---- model: Sequential Dense layers (Keras's own Glorot-uniform kernels, zero biases)
def build(config: dict, dtype: str) -> keras.Model:
    if config["init"] != "default":
        raise ValueError(f"xor: init {config['init']!r} is not offered; expected 'default'")
    model = keras.Sequential(name="xor")
    model.add(keras.Input(shape=(config["in_features"],), dtype=dtype))
    for i, units in enumerate(config["hidden"], start=1):
        model.add(keras.layers.Dense(units, activation=config["activation"], name=f"hidden{i}", dtype=dtype))
    model.add(keras.layers.Dense(1, activation="sigmoid", name="output", dtype=dtype))
    return model


# ---- loss: binary cross-entropy on probabilities (inside fit Keras uses the sigmoid's logits)
def loss() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy()


# ---- optimizer: keras.optimizers.SGD(learning_rate=0.1) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit over the shared batches
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: Dense kernels are (in, out) like the canonical layout: only the names differ
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable
            for layer in model.layers for key, variable in (("W", layer.kernel), ("b", layer.bias))}
