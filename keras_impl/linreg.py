"""Linear regression in Keras 3: y = X·w + b, mean squared error, SGD.

Sections, as in scratch/linreg.py and torch_impl/linreg.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["linreg_data", "build", "loss", "train", "canonical_variables"]

import keras

from keras_impl import training

# ---- data: X (N, F), y (N, 1); by default 1000 × 2 synthetic points, w = [2, −3.4], b = 4.2, noise σ 0.01
from triptych.data import linreg_data


# ---- model: one Dense unit, no activation
def build(config: dict, dtype: str) -> keras.Model:
    init = {"default": "glorot_uniform", "zeros": "zeros"}.get(config["init"])
    if init is None:
        raise ValueError(f"linreg: init {config['init']!r} is not offered; expected 'default' or 'zeros'")
    return keras.Sequential([keras.Input(shape=(config["in_features"],), dtype=dtype),
                             keras.layers.Dense(1, kernel_initializer=init, name="linear", dtype=dtype)],
                            name="linreg")


# ---- loss: mean squared error
def loss() -> keras.losses.Loss:
    return keras.losses.MeanSquaredError()


# ---- optimizer: keras.optimizers.SGD(learning_rate=0.03) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit over the shared batches
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: the Dense kernel (F, 1) is already the canonical linear.W
def canonical_variables(model: keras.Model) -> dict:
    layer = model.get_layer("linear")
    return {"linear.W": layer.kernel, "linear.b": layer.bias}
