"""Logistic regression in Keras 3: Sequential([Dense(1, sigmoid)]), compile + fit."""
from __future__ import annotations

import keras

from keras_impl import training


# ---- data: X (N, 30) standardised, y (N, 1) in {0, 1} (the declaration's loader) → the shared batches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model
def build(config: dict, dtype: str) -> keras.Model:
    return keras.Sequential([keras.Input(shape=(config["in_features"],), dtype=dtype),
                             keras.layers.Dense(1, activation="sigmoid", name="logit", dtype=dtype)], name="logreg")


# ---- loss: binary cross-entropy on probabilities
def loss() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy()


# ---- optimizer: keras.optimizers.SGD (the recipe), or the shared factory's for another
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "sgd":
        return training.make_optimizer(plan)
    return keras.optimizers.SGD(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: Dense.kernel (F, 1) is already the canonical logit.W
def canonical_variables(model: keras.Model) -> dict:
    dense = model.get_layer("logit")
    return {"logit.W": dense.kernel, "logit.b": dense.bias}
