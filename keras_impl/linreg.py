"""Linear regression in Keras 3: y = X·w + b, mean squared error (+ L2(λ/2) on the kernel with l2 = λ), SGD.

Sections, as in scratch/linreg.py and torch_impl/linreg.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras
import numpy as np

from keras_impl import training


# ---- data: X (N, F), y (N, 1) as triptych.data.linreg_data returns them (by default 1000 × 2 synthetic points,
#      w = [2, −3.4], b = 4.2, noise σ 0.01) → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: one Dense unit, no activation; d2l's weight decay λ/2·‖w‖² is kernel_regularizer=L2(λ/2),
#      since Keras's L2(l) adds l·‖w‖² to the loss fit minimises (the bias is not regularised)
def build(config: dict, dtype: str) -> keras.Model:
    init = {"default": "glorot_uniform", "zeros": "zeros"}.get(config["init"])
    if init is None:
        raise ValueError(f"linreg: init {config['init']!r} is not offered; expected 'default' or 'zeros'")
    regularizer = keras.regularizers.L2(config["l2"] / 2) if config["l2"] else None
    if regularizer and dtype == "float64":  # L2 casts a Python-float factor through float32: keep it exact
        regularizer.l2 = np.float64(regularizer.l2)
    return keras.Sequential([keras.Input(shape=(config["in_features"],), dtype=dtype),
                             keras.layers.Dense(1, kernel_initializer=init, kernel_regularizer=regularizer,
                                                name="linear", dtype=dtype)],
                            name="linreg")


# ---- loss: mean squared error
def loss() -> keras.losses.Loss:
    return keras.losses.MeanSquaredError()


# ---- optimizer: the recipe, keras.optimizers.SGD with learning rate 0.03 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.SGD(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 10
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: the Dense kernel (F, 1) is already the canonical linear.W
def canonical_variables(model: keras.Model) -> dict:
    layer = model.get_layer("linear")
    return {"linear.W": layer.kernel, "linear.b": layer.bias}
