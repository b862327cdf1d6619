"""Idiomatic Keras 3, one file per model.  Importing the package, or any module of it, changes nothing
global: ``keras_impl.setup.configure()`` does the set-up (KERAS_BACKEND, quiet start-up, float64)."""
