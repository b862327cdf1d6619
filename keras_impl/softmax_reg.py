"""Softmax regression in Keras 3: flatten 784 → 10 logits, softmax cross-entropy, SGD 0.1.

Sections, as in scratch/softmax_reg.py and torch_impl/softmax_reg.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training


# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them (the
#      embedded sample, or full MNIST) → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


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


# ---- optimizer: the recipe, keras.optimizers.SGD with learning rate 0.1 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.SGD(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 256
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: none — the Dense kernel is (in, out) like the canonical layout; only the names differ
def canonical_variables(model: keras.Model) -> dict:
    layer = model.get_layer("output")
    return {"output.W": layer.kernel, "output.b": layer.bias}
