"""MNIST convnet in Keras 3: conv 32@3×3 relu → maxpool 2 → conv 64@3×3 relu → maxpool 2 → flatten →
dropout 0.5 → dense 10, softmax cross-entropy, Adam — the standard Keras MNIST convnet.  Images NHWC.

Sections, as in scratch/mnist_cnn.py and torch_impl/mnist_cnn.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training


# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them → the
#      stream fit reads: every epoch's shared seeded minibatches (the Reshape layer adds the channel axis, NHWC)
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential, logits out (the loss applies the softmax); Keras's Glorot-uniform kernels, zero biases
def build(config: dict, dtype: str) -> keras.Model:
    k, p, (f1, f2) = config["kernel_size"], config["pool_size"], config["filters"]
    h, w = config["image_size"]
    layer = dict(dtype=dtype)
    return keras.Sequential([
        keras.Input(shape=(h, w), dtype=dtype),
        keras.layers.Reshape((h, w, 1), name="reshape", **layer),
        keras.layers.Conv2D(f1, k, activation="relu", name="conv1", **layer),
        keras.layers.MaxPooling2D(p, name="pool1", **layer),
        keras.layers.Conv2D(f2, k, activation="relu", name="conv2", **layer),
        keras.layers.MaxPooling2D(p, name="pool2", **layer),
        keras.layers.Flatten(name="flatten", **layer),
        keras.layers.Dropout(config["dropout"], name="dropout", **layer),
        keras.layers.Dense(config["num_classes"], name="output", **layer),
    ], name="mnist_cnn")


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


# ---- conversion: Conv2D kernels are (kh, kw, in, out) and Flatten is (H, W, C): already the canonical layout
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable for layer in model.layers
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
            for key, variable in (("W", layer.kernel), ("b", layer.bias))}
