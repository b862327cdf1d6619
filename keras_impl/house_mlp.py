"""House-price MLP in Keras 3: 13 → 13 sigmoid → 13 sigmoid → 1, MSE, SGD 0.01.

Sections, as in scratch/house_mlp.py and torch_impl/house_mlp.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training


# ---- data: X (N, 13), y (N, 1) in $1000s as triptych.data.boston_data returns them (standardised with
#      training-set statistics) → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential [Dense(13, sigmoid), Dropout] × len(hidden), Dense(1)
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros")


def build(config: dict, dtype: str) -> keras.Model:
    init = "glorot_uniform" if config["init"] == "default" else config["init"]
    if init not in INITIALIZERS:
        raise ValueError(f"unknown init {config['init']!r}; expected one of default, {', '.join(INITIALIZERS)}")
    model = keras.Sequential(name="house_mlp")
    model.add(keras.Input(shape=(config["in_features"],), dtype=dtype))
    for i, units in enumerate(config["hidden"], start=1):
        model.add(keras.layers.Dense(units, activation=config["activation"], kernel_initializer=init,
                                     name=f"hidden{i}", dtype=dtype))
        if config["dropout"]:
            model.add(keras.layers.Dropout(config["dropout"], name=f"dropout{i}", dtype=dtype))
    model.add(keras.layers.Dense(1, kernel_initializer=init, name="output", dtype=dtype))
    return model


# ---- loss: mean squared error
def loss() -> keras.losses.Loss:
    return keras.losses.MeanSquaredError()


# ---- optimizer: the recipe, keras.optimizers.SGD with learning rate 0.01 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.SGD(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 32; evaluation every 10 epochs, best weights kept
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: Dense kernels are (in, out) like the canonical layout: only the names differ
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable for layer in model.layers if isinstance(layer, keras.layers.Dense)
            for key, variable in (("W", layer.kernel), ("b", layer.bias))}
