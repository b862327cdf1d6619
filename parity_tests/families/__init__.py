"""Generic networks for the property-based parity tests (``parity_tests/test_random_families.py``),
registered through the public registry exactly as a user's own model would be.

Each family is one declaration here (``<family>.py``: options, rules, canonical layout, the
``ModelSpec``) and three implementations outside the core packages, side by side as in the core:
``scratch/<family>.py``, ``torch_impl/<family>.py`` and ``keras_impl/<family>.py``.

    dense_family      (N, F) → [Dense(width, activation)] × depth → Dense(1): regression, MSE
    conv_family       (N, H, W, C) → [Conv2D(filters, (kh, kw), stride, padding, activation) → max-pool] × k
                      → flatten (H, W, C) → Dense(classes): classification, softmax cross-entropy
    recurrent_family  (N, T, F) → stacked simple RNN / GRU / LSTM → last hidden state → Dense(classes):
                      classification, softmax cross-entropy

    from parity_tests.families import register_families
    register_families()
    run_ladder("conv_family", overrides=dict(convs=[(4, (3, 2), 2, "same", "relu", 2)]))
"""
from __future__ import annotations

import importlib
import numbers

from triptych.registry import DataSource, resolve, unregister_model

FAMILIES = ("dense_family", "conv_family", "recurrent_family")


def register_families(replace: bool = False) -> None:
    """Register the three families (each declaration's ``register``)."""
    for name in FAMILIES:
        importlib.import_module(f"{__name__}.{name}").register(replace)


def unregister_families() -> None:
    for name in FAMILIES:
        unregister_model(name)


def implementations(name: str) -> dict[str, str]:
    """The dotted names of a family's three implementation modules (imported on first use)."""
    return {framework: f"{__name__}.{package}.{name}"
            for framework, package in (("scratch", "scratch"), ("torch", "torch_impl"), ("keras", "keras_impl"))}


def whole(value, low: int = 1) -> bool:
    """An integer (not a bool) ≥ ``low``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def layers_rule(record, expected: str, valid, min_len: int = 0):
    """A spec rule: a sequence of at least ``min_len`` layers, each made by ``record(*fields)`` (a named
    tuple) from a tuple or list of its fields and passing ``valid(layer) -> bool``; anything else is a
    ValueError saying ``expected``."""
    def rule(model, key, value):
        try:
            layers = tuple(record(*item) for item in value)
        except TypeError:
            layers = None
        if layers is None or len(layers) < min_len or not all(valid(layer) for layer in layers):
            raise ValueError(f"model {model!r}: option {key!r} must be {expected}, got {value!r}")
        return layers
    return rule


def synthetic_source(name: str, n_train: int = 64, n_test: int = 32) -> DataSource:
    """Random inputs and targets of the default configuration's shapes (the parity problem's
    distribution): enough for ``train`` and the report to run a family; there is nothing to learn."""
    def load(data, quick, seed):
        from triptych.parity import parity_problem

        config = resolve(name)
        X_train, y_train = parity_problem(name, config, n_train, seed)
        X_test, y_test = parity_problem(name, config, n_test, seed + 1)
        return X_train, y_train, X_test, y_test, description, {}
    description = f"random {name} inputs and targets ({n_train} train / {n_test} test)"
    return DataSource(load, description)
