"""Linear regression in Keras 3: y = X·w + b, mean squared error, SGD.

Sections, as in scratch/linreg.py and torch_impl/linreg.py: data → model → loss → optimizer → training.
"""
from __future__ import annotations

import keras

from triptych.data import linreg_data  # data: X (N, F), y (N, 1); default 1000 × 2, w = [2, −3.4], b = 4.2
from keras_impl import training

__all__ = ["linreg_data", "build", "canonical_variables", "loss", "train"]


# ---- model: one Dense unit, no activation
def build(config: dict, dtype: str) -> keras.Model:
    init = {"default": "glorot_uniform", "zeros": "zeros"}.get(config["init"])
    if init is None:
        raise ValueError(f"linreg: init {config['init']!r} is not offered; expected 'default' or 'zeros'")
    return keras.Sequential([keras.Input(shape=(config["in_features"],), dtype=dtype),
                             keras.layers.Dense(1, kernel_initializer=init, name="linear", dtype=dtype)],
                            name="linreg")


def canonical_variables(model: keras.Model) -> dict:
    """Dense kernel (F, 1) is already the canonical linear.W."""
    layer = model.get_layer("linear")
    return {"linear.W": layer.kernel, "linear.b": layer.bias}


# ---- loss: mean squared error
def loss() -> keras.losses.Loss:
    return keras.losses.MeanSquaredError()


# ---- optimizer: keras.optimizers.SGD(learning_rate=0.03) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit over the shared batches
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)
