"""XOR in Keras 3: 2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1 — the classic Keras example.

Sections, as in scratch/xor.py and torch_impl/xor.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training


# ---- data: X (4, 2) float, y (4, 1) in {0, 1} as triptych.data.xor_data returns them → the stream fit reads:
#      every epoch's shared seeded minibatches, in order
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential Dense layers (Keras's own Glorot-uniform kernels, zero biases)
def build(config: dict, dtype: str) -> keras.Model:
    if config["init"] != "default":
        raise ValueError(f"xor: init {config['init']!r} is not offered; expected 'default'")
    model = keras.Sequential(name="xor")
    model.add(keras.Input(shape=(config["in_features"],), dtype=dtype))
    for i, units in enumerate(config["hidden"], start=1):
        model.add(keras.layers.Dense(units, activation=config["activation"], name=f"hidden{i}", dtype=dtype))
    model.add(keras.layers.Dense(1, activation="sigmoid", name="output", dtype=dtype))
    return model


# ---- loss: binary cross-entropy on probabilities (inside fit Keras uses the sigmoid's logits)
def loss() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy()


# ---- optimizer: the recipe, keras.optimizers.SGD with learning rate 0.1 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.SGD(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches (of one point by default)
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: Dense kernels are (in, out) like the canonical layout: only the names differ
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable
            for layer in model.layers for key, variable in (("W", layer.kernel), ("b", layer.bias))}
