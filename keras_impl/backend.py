"""Keras 3 on TensorFlow, JAX or torch: which backend, float64 on every backend, gradients per backend.

Keras reads ``KERAS_BACKEND`` once, when it is first imported (default here: tensorflow), so one
process runs one backend; TensorFlow is imported only when it is the backend.  Importing
``keras_impl`` runs this module first, so every model file sees the same configured Keras.

float64 needs two things off TensorFlow:
- JAX computes in float32 unless x64 is enabled (a JAX default, whatever the Keras version);
- Keras 3.15 maps float64 to float32 in ``keras.backend.result_type`` on every backend but
  TensorFlow (keras-team/keras#23704, open), so a float64 ``Dense`` on torch returns float32 and
  a float64 model silently mixes the two.  :func:`_patch_float64_result_type` keeps float64 as
  float64, only on the Keras releases listed in ``FLOAT64_BUG_RELEASES``; the test
  ``parity_tests/test_keras_backends.py::test_keras_float64_bug_is_still_upstream`` fails once the
  installed Keras disagrees with that list: fixed upstream (remove the patch) or a new release
  still affected (add it).
"""
from __future__ import annotations

import os
import random

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from triptych.backends import KERAS_BACKENDS, keras_label  # noqa: E402

BACKEND = keras.backend.backend()
if BACKEND not in KERAS_BACKENDS:
    raise ImportError(f"keras_impl runs on the Keras backends {', '.join(KERAS_BACKENDS)}, not {BACKEND!r}: "
                      f"set KERAS_BACKEND to one of them")
LABEL = keras_label(BACKEND)  # the framework's name in parity tables: "keras", "keras[jax]", "keras[torch]"
FLOAT64_BUG_RELEASES = ("3.15",)  # keras-team/keras#23704: float64 → float32 off TensorFlow


def _release(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _patch_float64_result_type() -> bool:
    """Keep float64 as float64 in Keras's type promotion (``result_type``): the one entry of
    ``BIT64_TO_BIT32_DTYPE`` that #23704 is about.  Returns whether the patch was applied."""
    if BACKEND == "tensorflow" or _release(keras.version()) not in FLOAT64_BUG_RELEASES:
        return False
    from keras.src.backend.common import dtypes

    dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"
    return True


if BACKEND == "jax":
    import jax

    jax.config.update("jax_enable_x64", True)
FLOAT64_PATCHED = _patch_float64_result_type()


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
    + ``jax.value_and_grad`` on JAX, autograd on torch.  Returns (float, [np.ndarray], np.ndarray)."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = _with_penalties(loss_fn(y, model(x, training=True)), model.losses)
        grads = tape.gradient(loss, [*variables, x])
    elif BACKEND == "jax":
        import jax

        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_of(trainable, x):
            outputs, _, penalties = model.stateless_call(trainable, non_trainable, x, training=True,
                                                         return_losses=True)
            return _with_penalties(loss_fn(y, outputs), penalties)

        loss, (g_trainable, g_x) = jax.value_and_grad(loss_of, argnums=(0, 1))(
            [v.value for v in model.trainable_variables], jax.numpy.asarray(X))
        position = {id(v): i for i, v in enumerate(model.trainable_variables)}
        grads = [*(g_trainable[position[id(v)]] for v in variables), g_x]
    else:
        import torch

        x = torch.tensor(X, requires_grad=True)
        loss = _with_penalties(loss_fn(y, model(x, training=True)), model.losses)
        grads = torch.autograd.grad(loss, [*(v.value for v in variables), x])
    arrays = [keras.ops.convert_to_numpy(g) for g in grads]
    return float(keras.ops.convert_to_numpy(loss)), arrays[:-1], arrays[-1]
