"""Gradient descent on a curve in Keras 3 (TensorFlow backend): minimise f(x) = x²·sin x, the derivative
taken with tf.GradientTape on a one-variable model.

Sections, as in scratch/descent.py and torch_impl/descent.py: data → model → loss → optimizer → training.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_impl import training

__all__ = ["build", "f", "optimizer", "descend"]

ONE = np.ones((1, 1))  # the model's only input


# ---- data: none; the curve is the problem and x₀ the start (triptych/studies/descent.py)
# ---- model: one variable: a Dense unit without bias whose kernel is x, fed the constant 1, outputs x
def build(x0: float) -> keras.Model:
    return keras.Sequential([keras.Input(shape=(1,), dtype="float64"),
                             keras.layers.Dense(1, use_bias=False, kernel_initializer=keras.initializers.Constant(x0),
                                                dtype="float64", name="x")], name="one_variable")


# ---- loss: f(x) = x²·sin x of the model's output; the tape gives f'(x) for the kernel
def f(x):
    return keras.ops.square(x) * keras.ops.sin(x)


# ---- optimizer: keras.optimizers.SGD (momentum), RMSprop or Adam, whichever the study's plan names (the
#      study compares them all, so the shared factory picks: training.make_optimizer)
def optimizer(plan) -> keras.optimizers.Optimizer:
    return training.make_optimizer(plan)


# ---- training: a GradientTape step compiled with tf.function, run ``steps`` times; returns the path
#      x₀, x₁, …, x_steps (steps + 1,)
def descend(x0: float, steps: int, plan) -> np.ndarray:
    with training.floatx("float64"):  # the optimizer's variables (learning rate, moments) in float64 too
        model = build(x0)
        opt = optimizer(plan)
        x = model.get_layer("x").kernel

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                value = keras.ops.sum(f(model(ONE)))
            opt.apply(tape.gradient(value, [x]), [x])

        path = [float(x.numpy()[0, 0])]
        for _ in range(steps):
            step()
            path.append(float(x.numpy()[0, 0]))
    return np.array(path)
