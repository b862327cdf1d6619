"""The MNIST MLP in Keras 3: flatten 784 → 256 ReLU → 64 ReLU → 10, MSE against the one-hot label, SGD 0.1
with momentum 0.9.

Sections, as in scratch/mnist_mlp.py and torch_impl/mnist_mlp.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "OneHotMeanSquaredError", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training


# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them (the
#      embedded sample, or full MNIST) → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential [Flatten, Dense(256, relu), Dense(64, relu), Dense(10)], raw outputs; Glorot-uniform kernels
def build(config: dict, dtype: str) -> keras.Model:
    init = "glorot_uniform" if config["init"] == "default" else config["init"]
    model = keras.Sequential(name="mnist_mlp")
    model.add(keras.Input(shape=tuple(config["image_size"]), dtype=dtype))
    model.add(keras.layers.Flatten(name="flatten", dtype=dtype))
    for i, units in enumerate(config["hidden"], start=1):
        model.add(keras.layers.Dense(units, activation=config["activation"], kernel_initializer=init,
                                     name=f"hidden{i}", dtype=dtype))
    model.add(keras.layers.Dense(config["num_classes"], kernel_initializer=init, name="output", dtype=dtype))
    return model


# ---- loss: MeanSquaredError (the mean over the 10 outputs of each sample, then "sum over batch size": the mean
# over N) against one_hot(label) — the mean over all N × 10 entries, as torch's MSELoss
class OneHotMeanSquaredError(keras.losses.MeanSquaredError):
    """mean((p − one_hot(y))²) over N·C entries.   p (N, C), y (N,) integer labels."""

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        return super().call(keras.ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype), y_pred)


def loss() -> keras.losses.Loss:
    return OneHotMeanSquaredError()


# ---- optimizer: the recipe, keras.optimizers.SGD with learning rate 0.1 (plan.lr) and momentum 0.9
#      (plan.options)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.SGD(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 512
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: none — Dense kernels are (in, out) like the canonical layout; only the names differ
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable for layer in model.layers if isinstance(layer, keras.layers.Dense)
            for key, variable in (("W", layer.kernel), ("b", layer.bias))}
