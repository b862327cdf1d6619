"""The model specs: architecture and default hyperparameters of the five models, in one place.

``resolve(name, overrides)`` gives the full architecture config of one model; it is
what every framework's ``build`` receives.  ``TRAINING[name]`` holds the default
training hyperparameters used by the CLI and the report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODELS = ("xor", "linreg", "house_mlp", "mnist_cnn", "lstm")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str  # "binary" (probabilities, BCE) | "regression" (MSE) | "classification" (logits, softmax CE)
    description: str
    arch: dict[str, Any]  # every key may be overridden in build(...)
    training: dict[str, Any]  # epochs, batch_size, lr, optimizer, seed, eval_every, keep_best
    parity: dict[str, Any] = field(default_factory=dict)  # small problem for the parity ladder


SPECS: dict[str, ModelSpec] = {
    "xor": ModelSpec(
        name="xor",
        task="binary",
        description="2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1",
        arch=dict(in_features=2, hidden=(10,), activation="tanh", init="default"),
        training=dict(epochs=200, batch_size=1, lr=0.1, optimizer="sgd", seed=0, eval_every=None),
        parity=dict(n=4, batch_size=None, epochs=60, lr=0.1, optimizer="sgd"),
    ),
    "linreg": ModelSpec(
        name="linreg",
        task="regression",
        description="y = X·w + b, MSE, SGD",
        arch=dict(in_features=2, init="default"),
        training=dict(epochs=3, batch_size=10, lr=0.03, optimizer="sgd", seed=0, eval_every=None),
        parity=dict(n=100, batch_size=10, epochs=6, lr=0.03, optimizer="sgd"),
    ),
    "house_mlp": ModelSpec(
        name="house_mlp",
        task="regression",
        description="13 → 13 sigmoid → 13 sigmoid → 1, MSE, SGD 0.01",
        arch=dict(in_features=13, hidden=(13, 13), activation="sigmoid", init="default", dropout=0.0),
        training=dict(epochs=50, batch_size=32, lr=0.01, optimizer="sgd", seed=20190501, eval_every=10,
                      keep_best=True),
        parity=dict(n=64, batch_size=8, epochs=7, lr=0.01, optimizer="sgd"),
    ),
    "mnist_cnn": ModelSpec(
        name="mnist_cnn",
        task="classification",
        description="conv 32@3×3 relu → maxpool 2 → conv 64@3×3 relu → maxpool 2 → flatten → "
                    "dropout 0.5 → dense 10, softmax cross-entropy, Adam",
        arch=dict(image_size=(28, 28), filters=(32, 64), kernel_size=3, pool_size=2, dropout=0.5,
                  num_classes=10),
        training=dict(epochs=12, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None,
                      full_epochs=5),
        parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam", overrides=dict(dropout=0.0)),
    ),
    "lstm": ModelSpec(
        name="lstm",
        task="classification",
        description="28 rows × 28 pixels → LSTM 64 → dense 10 on the last state, softmax cross-entropy, Adam",
        arch=dict(in_features=28, units=64, num_classes=10),
        training=dict(epochs=20, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None,
                      full_epochs=10),
        parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam", overrides=dict(units=8),
                    seq_len=7),
    ),
}


def get_spec(name: str) -> ModelSpec:
    if name not in SPECS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
    return SPECS[name]


def resolve(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Architecture config of ``name`` with ``overrides`` applied; unknown keys are a ValueError."""
    spec = get_spec(name)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(spec.arch))
    if unknown:
        raise ValueError(f"model {name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"expected some of {', '.join(sorted(spec.arch))}")
    config = {**spec.arch, **overrides}
    for key in ("hidden", "filters", "image_size"):
        if key in config and isinstance(config[key], list):
            config[key] = tuple(config[key])
    return config
