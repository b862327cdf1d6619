"""Keras 3 on TensorFlow, JAX or torch: which backend this process runs, seeds, gradients per backend.

Keras reads ``KERAS_BACKEND`` once, when it is first imported; ``keras_impl.setup.configure()`` sets it
up (and float64 on JAX and torch) before anything here runs.
"""
from __future__ import annotations

import random

import keras
import numpy as np

from triptych.backends import KERAS_BACKENDS, keras_label

BACKEND = keras.backend.backend()
if BACKEND not in KERAS_BACKENDS:
    raise ImportError(f"keras_impl runs on the Keras backends {', '.join(KERAS_BACKENDS)}, not {BACKEND!r}: "
                      f"set KERAS_BACKEND to one of them")
LABEL = keras_label(BACKEND)  # the framework's name in parity tables: "keras", "keras[jax]", "keras[torch]"


def set_random_seed(seed: int) -> None:
    """Seed Keras's initialisers and dropout.  ``keras.utils.set_random_seed`` also seeds TensorFlow
    whenever it is installed, importing it; off TensorFlow the same seeds are set without it (Keras
    layers draw their seeds from Python's ``random``)."""
    if BACKEND == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)
    if BACKEND == "torch":
        import torch

        torch.manual_seed(seed)


def _with_penalties(loss, penalties):
    return loss + keras.ops.sum(keras.ops.stack(penalties)) if penalties else loss


def value_and_grads(model: keras.Model, loss_fn, variables: list, X: np.ndarray, y: np.ndarray):
    """Training-mode loss L = loss_fn(y, model(X)) + Σ the model's regularization losses (what fit
    minimises, e.g. ``kernel_regularizer=L2(…)``) and dL/dv for each of ``variables`` and dL/dX,
    taken the way each backend takes gradients: ``tf.GradientTape`` on TensorFlow, ``stateless_call``
    + ``jax.value_and_grad`` on JAX, autograd on torch.  Returns (float, [np.ndarray], np.ndarray), the last
    None for integer X (token ids have no gradient)."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = _with_penalties(loss_fn(y, model(x, training=True)), model.losses)
        grads = tape.gradient(loss, [*variables, x])  # None for integer X (token ids)
    elif BACKEND == "jax":
        import jax

        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_of(trainable, x):
            outputs, _, penalties = model.stateless_call(trainable, non_trainable, x, training=True,
                                                         return_losses=True)
            return _with_penalties(loss_fn(y, outputs), penalties)

        floating = np.issubdtype(np.asarray(X).dtype, np.floating)
        loss, g = jax.value_and_grad(loss_of, argnums=(0, 1) if floating else 0)(
            [v.value for v in model.trainable_variables], jax.numpy.asarray(X))
        g_trainable, g_x = g if floating else (g, None)
        position = {id(v): i for i, v in enumerate(model.trainable_variables)}
        grads = [*(g_trainable[position[id(v)]] for v in variables), g_x]
    else:
        import torch

        floating = np.issubdtype(np.asarray(X).dtype, np.floating)
        x = torch.tensor(X, requires_grad=floating)
        loss = _with_penalties(loss_fn(y, model(x, training=True)), model.losses)
        grads = torch.autograd.grad(loss, [*(v.value for v in variables), *([x] if floating else [])])
        grads = grads if floating else [*grads, None]
    arrays = [None if g is None else keras.ops.convert_to_numpy(g) for g in grads]
    return float(keras.ops.convert_to_numpy(loss)), arrays[:-1], arrays[-1]
