"""Logistic regression in Keras 3: Sequential([Dense(1, sigmoid)]), compile + fit."""
from __future__ import annotations

import keras

from keras_impl import training


# ---- data: X (N, 30) standardised, y (N, 1) in {0, 1} (the declaration's loader)
# ---- model
def build(config: dict, dtype: str) -> keras.Model:
    return keras.Sequential([keras.Input(shape=(config["in_features"],), dtype=dtype),
                             keras.layers.Dense(1, activation="sigmoid", name="logit", dtype=dtype)], name="logreg")


# ---- loss: binary cross-entropy on probabilities
def loss() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy()


# ---- optimizer: keras.optimizers.SGD (training.make_optimizer)
# ---- training: model.compile + model.fit over the shared batches
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: Dense.kernel (F, 1) is already the canonical logit.W
def canonical_variables(model: keras.Model) -> dict:
    dense = model.get_layer("logit")
    return {"logit.W": dense.kernel, "logit.b": dense.bias}
