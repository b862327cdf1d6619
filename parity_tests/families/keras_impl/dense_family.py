"""dense_family in Keras 3: F → [Dense(width, activation)] × depth → Dense(1), MSE.

Sections, as in scratch/dense_family.py and torch_impl/dense_family.py.
"""
from __future__ import annotations

import keras

from keras_impl import training

# ---- data: random X (N, F) and targets (N, 1) (parity_tests.families.synthetic_source) → the stream
#      fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential Dense layers (Keras's Glorot-uniform kernels, zero biases)
def build(config: dict, dtype: str) -> keras.Model:
    model = keras.Sequential(name="dense_family")
    model.add(keras.Input(shape=(config["in_features"],), dtype=dtype))
    for i, h in enumerate(config["hidden"], start=1):
        model.add(keras.layers.Dense(h.width, activation=h.activation, name=f"hidden{i}", dtype=dtype))
    model.add(keras.layers.Dense(1, name="output", dtype=dtype))
    return model


# ---- loss: mean squared error
def loss() -> keras.losses.Loss:
    return keras.losses.MeanSquaredError()


# ---- optimizer: keras.optimizers.SGD / Adam, whichever the plan names (the shared factory picks)
def optimizer(plan) -> keras.optimizers.Optimizer:
    return training.make_optimizer(plan)


# ---- training: compile, then fit over the shared batches
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: Dense kernels are (in, out) like the canonical layout; only the names differ
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable for layer in model.layers
            for key, variable in (("W", layer.kernel), ("b", layer.bias))}
