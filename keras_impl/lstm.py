"""LSTM on MNIST rows in Keras 3: 28 rows × 28 pixels → keras.layers.LSTM 64 → dense 10 on the last
hidden state, softmax cross-entropy, Adam.

Sections, as in scratch/lstm.py and torch_impl/lstm.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "build", "loss", "train", "canonical_variables"]

import keras

from keras_impl import training

# ---- data: images (N, 28, 28) in [0, 1], read as 28 time steps of 28 pixels; labels (N,) 0..9
from triptych.mnist import load_mnist


# ---- model: Sequential LSTM → Dense logits.  use_cudnn=False: the generic kernel, so CPU and GPU agree
def build(config: dict, dtype: str) -> keras.Model:
    return keras.Sequential([
        keras.Input(shape=(None, config["in_features"]), dtype=dtype),
        keras.layers.LSTM(config["units"], use_cudnn=False, name="lstm", dtype=dtype),
        keras.layers.Dense(config["num_classes"], name="output", dtype=dtype),
    ], name="lstm")


# ---- loss: softmax cross-entropy on the logits
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: keras.optimizers.Adam(learning_rate=1e-3) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit over the shared batches of 128
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: LSTM kernel (F, 4u), recurrent kernel (u, 4u) and bias (4u,), gates i, f, c, o: the canonical
# layout as it is; only the names differ
def canonical_variables(model: keras.Model) -> dict:
    lstm, dense = model.get_layer("lstm").cell, model.get_layer("output")
    return {"lstm.W": lstm.kernel, "lstm.U": lstm.recurrent_kernel, "lstm.b": lstm.bias,
            "output.W": dense.kernel, "output.b": dense.bias}
