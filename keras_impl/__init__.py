"""Idiomatic Keras 3, one file per model; importing the package configures the backend first
(``keras_impl.backend``: KERAS_BACKEND, float64 on JAX and torch)."""
from keras_impl import backend  # noqa: F401  (before any model file imports keras)
