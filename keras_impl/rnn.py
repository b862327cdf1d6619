"""Simple tanh RNN on MNIST rows in Keras 3: 28 rows × 28 pixels → keras.layers.SimpleRNN 64 → dense 10 on
the last hidden state, softmax cross-entropy, Adam.

Sections, as in scratch/rnn.py and torch_impl/rnn.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import keras

from keras_impl import training

# ---- data: triptych.mnist.load_mnist, images (N, 28, 28) in [0, 1] read as 28 steps of 28 pixels
from triptych.mnist import load_mnist

__all__ = ["load_mnist", "build", "loss", "train", "canonical_variables"]


# ---- model: Sequential SimpleRNN (tanh, one bias) → Dense logits
def build(config: dict, dtype: str) -> keras.Model:
    return keras.Sequential([
        keras.Input(shape=(None, config["in_features"]), dtype=dtype),
        keras.layers.SimpleRNN(config["units"], name="rnn", dtype=dtype),
        keras.layers.Dense(config["num_classes"], name="output", dtype=dtype),
    ], name="rnn")


# ---- loss: softmax cross-entropy on the logits
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: keras.optimizers.Adam(learning_rate=1e-3) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit over the shared batches of 128
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: SimpleRNN kernel (F, u), recurrent kernel (u, u), bias (u,): the canonical layout as is
def canonical_variables(model: keras.Model) -> dict:
    rnn, dense = model.get_layer("rnn").cell, model.get_layer("output")
    return {"rnn.W": rnn.kernel, "rnn.U": rnn.recurrent_kernel, "rnn.b": rnn.bias,
            "output.W": dense.kernel, "output.b": dense.bias}
