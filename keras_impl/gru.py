"""GRU on MNIST rows in Keras 3: 28 rows × 28 pixels → keras.layers.GRU 64 → dense 10 on the last hidden
state, softmax cross-entropy, Adam.

Sections, as in scratch/gru.py and torch_impl/gru.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import keras

from keras_impl import training

# ---- data: triptych.mnist.load_mnist, images (N, 28, 28) in [0, 1] read as 28 steps of 28 pixels
from triptych.mnist import load_mnist

__all__ = ["load_mnist", "build", "loss", "train", "canonical_variables"]


# ---- model: Sequential GRU → Dense logits.  reset_after=True (Keras's default, spelled out): the reset
# gate acts after the recurrent matmul, as in torch, with an input and a recurrent bias; reset_after=False
# is a different model.  use_cudnn=False: the generic kernel, so CPU and GPU agree
def build(config: dict, dtype: str) -> keras.Model:
    return keras.Sequential([
        keras.Input(shape=(None, config["in_features"]), dtype=dtype),
        keras.layers.GRU(config["units"], reset_after=True, use_cudnn=False, name="gru", dtype=dtype),
        keras.layers.Dense(config["num_classes"], name="output", dtype=dtype),
    ], name="gru")


# ---- loss: softmax cross-entropy on the logits
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: keras.optimizers.Adam(learning_rate=1e-3) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit over the shared batches of 128
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: GRU kernel (F, 3u), recurrent kernel (u, 3u), gate blocks z, r, h, and bias (2, 3u)
# (row 0 input, row 1 recurrent): the canonical layout as is
def canonical_variables(model: keras.Model) -> dict:
    gru, dense = model.get_layer("gru").cell, model.get_layer("output")
    return {"gru.W": gru.kernel, "gru.U": gru.recurrent_kernel, "gru.b": gru.bias,
            "output.W": dense.kernel, "output.b": dense.bias}
