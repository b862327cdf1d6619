"""Keras's process-wide set-up, in one explicit call: :func:`configure` (``triptych.frameworks.get_framework``
makes it; a script that imports a ``keras_impl`` module directly calls it first).  Importing this module, or
any other of ``keras_impl``, sets no environment variable and patches nothing.

    configure()   # KERAS_BACKEND (default tensorflow), a quiet TensorFlow start-up, float64 on every backend

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so one process runs one backend; TensorFlow
is imported only when it is the backend.  float64 needs two things off TensorFlow:
- JAX computes in float32 unless x64 is enabled (a JAX default, whatever the Keras version);
- Keras 3.15 maps float64 to float32 in ``keras.backend.result_type`` on every backend but TensorFlow
  (keras-team/keras#23704, open), so a float64 ``Dense`` on torch returns float32 and a float64 model
  silently mixes the two.  :func:`_patch_float64_result_type` keeps float64 as float64, only on the Keras
  releases listed in ``FLOAT64_BUG_RELEASES``; the test
  ``parity_tests/test_keras_backends.py::test_keras_float64_bug_is_still_upstream`` fails once the
  installed Keras disagrees with that list: fixed upstream (remove the patch) or a new release still
  affected (add it).
"""
from __future__ import annotations

import contextlib
import os

FLOAT64_BUG_RELEASES = ("3.15",)  # keras-team/keras#23704: float64 → float32 off TensorFlow
from triptych.settings import VERBOSE  # "1": TensorFlow's start-up lines are shown

float64_patched = False  # whether configure() patched Keras's result_type (keras-team/keras#23704)
_configured = False


def configure() -> None:
    """Set Keras up for this process; idempotent (after the first call it returns at once).

    Before Keras is imported: ``KERAS_BACKEND`` defaults to ``tensorflow`` and, unless
    ``TRIPTYCH_VERBOSE=1``, ``TF_CPP_MIN_LOG_LEVEL`` to 2 and the import runs with TensorFlow's start-up
    lines dropped from stderr (keras_impl.startup_lines).  Then JAX's x64 and the float64 patch.  Keras
    already imported (a test that looks at it first) keeps its backend; the rest still applies."""
    global _configured, float64_patched
    if _configured:
        return
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    verbose = os.environ.get(VERBOSE) == "1"
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_impl import startup_lines

    with contextlib.nullcontext() if verbose else startup_lines.dropped():
        import keras
    if keras.backend.backend() == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    float64_patched = _patch_float64_result_type(keras)
    _configured = True


def _release(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _patch_float64_result_type(keras) -> bool:
    """Keep float64 as float64 in Keras's type promotion (``result_type``): the one entry of
    ``BIT64_TO_BIT32_DTYPE`` that #23704 is about.  Returns whether the patch was applied."""
    if keras.backend.backend() == "tensorflow" or _release(keras.version()) not in FLOAT64_BUG_RELEASES:
        return False
    from keras.src.backend.common import dtypes

    dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"
    return True
