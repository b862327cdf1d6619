"""GRU on MNIST rows in Keras 3: 28 rows × 28 pixels → keras.layers.GRU 64 → dense 10 on the last hidden
state, softmax cross-entropy, Adam.

Sections, as in scratch/gru.py and torch_impl/gru.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training


# ---- data: images (N, 28, 28) in [0, 1] as triptych.mnist.load_mnist returns them, read as 28 steps of 28
#      pixels, labels (N,) 0..9 → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


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


# ---- optimizer: the recipe, keras.optimizers.Adam with learning rate 1e-3 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.Adam(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 128
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: GRU kernel (F, 3u), recurrent kernel (u, 3u), gate blocks z, r, h, and bias (2, 3u)
# (row 0 input, row 1 recurrent): the canonical layout as is
def canonical_variables(model: keras.Model) -> dict:
    gru, dense = model.get_layer("gru").cell, model.get_layer("output")
    return {"gru.W": gru.kernel, "gru.U": gru.recurrent_kernel, "gru.b": gru.bias,
            "output.W": dense.kernel, "output.b": dense.bias}
