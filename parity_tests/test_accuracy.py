"""Accuracy targets from the default seed, in every framework (slow: whole training runs).

Embedded sample (marker ``slow``, run by CI): mnist_cnn ≥ 95 %, lstm ≥ 90 % test accuracy with the
default epochs; rnn and gru from identical initial weights in the three frameworks, within 1.5 points of
each other.  Full MNIST (marker ``full``, needs the four IDX files in ../shared/mnist or
$TRIPTYCH_MNIST_DIR): mnist_cnn ≥ 98.5 %, lstm ≥ 97 %, rnn ≥ 93 %, gru ≥ 97.5 % with the documented
full-data epochs.
"""
from __future__ import annotations

import os

import pytest

from triptych.experiments import epochs_for, load_experiment, metrics
from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.registry import MODELS
from parity_tests.conftest import SHARED_MNIST

SAMPLE_TARGETS = {"mnist_cnn": 0.95, "lstm": 0.90}
FULL_TARGETS = {"mnist_cnn": 0.985, "lstm": 0.97, "rnn": 0.93, "gru": 0.975}
SAMPLE_AGREEMENT = {"rnn": 0.015, "gru": 0.015}  # largest spread of the three from identical initial weights


def _accuracy(model: str, framework: str, data: str, epochs: int, weights: dict | None = None) -> float:
    """Test accuracy after training with the default recipe, from the framework's own seeded
    initialisation or from ``weights``."""
    exp = load_experiment(model, data)
    fw = get_framework(framework)
    net = fw.build(model, seed=MODELS[model].training["seed"], dtype="float32")
    if weights is not None:
        fw.set_weights(net, weights)
    history = fw.train(net, exp.X_train, exp.y_train, epochs=epochs)
    accuracy = metrics(model, fw.predict(net, exp.X_test), exp.y_test)["accuracy"]
    print(f"\n{model} · {framework}: {exp.source}; {epochs} epochs in {history['seconds']:.0f} s → "
          f"test accuracy {accuracy:.4f}")  # shown with pytest -s
    return accuracy


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("model", SAMPLE_TARGETS)
def test_sample_accuracy(model, framework):
    accuracy = _accuracy(model, framework, "sample", MODELS[model].training["epochs"])
    assert accuracy >= SAMPLE_TARGETS[model], f"{model} {framework}: {accuracy:.4f}"


@pytest.mark.slow
@pytest.mark.parametrize("model", SAMPLE_AGREEMENT)
def test_sample_accuracies_agree(model):
    scratch = get_framework("scratch")
    start = scratch.get_weights(scratch.build(model, seed=MODELS[model].training["seed"], dtype="float32"))
    accuracy = {f: _accuracy(model, f, "sample", MODELS[model].training["epochs"], start) for f in FRAMEWORKS}
    spread = max(accuracy.values()) - min(accuracy.values())
    print(f"{model}: {', '.join(f'{f} {a:.4f}' for f, a in accuracy.items())}; spread {spread:.4f}")
    assert spread <= SAMPLE_AGREEMENT[model], accuracy


def _full_dir() -> str:
    directory = os.environ.get("TRIPTYCH_MNIST_DIR") or (str(SHARED_MNIST) if SHARED_MNIST.is_dir() else None)
    if not directory:
        pytest.skip("full MNIST not found (set TRIPTYCH_MNIST_DIR or provide ../shared/mnist)")
    return directory


@pytest.mark.full
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("model", FULL_TARGETS)
def test_full_mnist_accuracy(model, framework):
    directory = _full_dir()
    accuracy = _accuracy(model, framework, directory, epochs_for(model, directory))
    assert accuracy >= FULL_TARGETS[model], f"{model} {framework}: {accuracy:.4f}"
