"""Softmax regression in Keras 3: flatten 784 → 10 logits, softmax cross-entropy, SGD 0.1.

Sections, as in scratch/softmax_reg.py and torch_impl/softmax_reg.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import keras

# ---- data: MNIST images (N, 28, 28) in [0, 1], labels (N,) 0..9 (the embedded sample, or full MNIST)
from triptych.mnist import load_mnist
from keras_impl import training

__all__ = ["load_mnist", "build", "loss", "train", "canonical_variables"]


# ---- model: Sequential [Flatten, Dense(10)], logits out (the loss applies the softmax); Glorot-uniform kernel
def build(config: dict, dtype: str) -> keras.Model:
    init = "glorot_uniform" if config["init"] == "default" else config["init"]
    return keras.Sequential([
        keras.Input(shape=tuple(config["image_size"]), dtype=dtype),
        keras.layers.Flatten(name="flatten", dtype=dtype),
        keras.layers.Dense(config["num_classes"], kernel_initializer=init, name="output", dtype=dtype),
    ], name="softmax_reg")


# ---- loss: softmax cross-entropy on the logits, integer labels
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: keras.optimizers.SGD(learning_rate=0.1) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit over the shared batches of 256
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: none — the Dense kernel is (in, out) like the canonical layout; only the names differ
def canonical_variables(model: keras.Model) -> dict:
    layer = model.get_layer("output")
    return {"output.W": layer.kernel, "output.b": layer.bias}
