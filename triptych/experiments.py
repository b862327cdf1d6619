"""Each model's standard experiment: its data (train/test split and where it came from) and its
metrics.  Shared by ``triptych train``, the report and the accuracy tests.

The data sources a declaration can name are built here (``fixed_source``, ``mnist_source``); a
model's declaration holds its own ``DataSource``, so nothing here branches on a model.
"""
from __future__ import annotations

import numpy as np

from triptych.registry import DataSource, Experiment, get_spec

QUICK_TRAIN, QUICK_TEST = 512, 256  # --quick: MNIST subsets

__all__ = ["Experiment", "QUICK_TEST", "QUICK_TRAIN", "fixed_source", "load_experiment", "metrics",
           "mnist_source", "epochs_for", "train_with_curves"]


def load_experiment(model: str, data: str | None = None, quick: bool = False, seed: int = 0) -> Experiment:
    """The data of ``model``'s standard experiment (``data``: the user's ``--data``, None for the default)."""
    source = get_spec(model).data
    if data is not None and not source.takes_data:
        raise ValueError(f"model {model!r} takes no --data ({source.description})")
    X_train, y_train, X_test, y_test, text, overrides = source.load(data, quick, seed)
    return Experiment(model, X_train, y_train, X_test, y_test, text, overrides)


def epochs_for(model: str, data: str | None, quick: bool = False, quick_epochs: int | None = None) -> int:
    """Default epochs of ``model``: the spec's, ``full_epochs`` on the full data set, capped when quick."""
    spec = get_spec(model)
    epochs = spec.training["epochs"]
    if spec.data.full_epochs and data not in (None, spec.data.default_data):
        epochs = spec.data.full_epochs
    if quick and quick_epochs is not None and spec.data.takes_data:
        epochs = min(epochs, quick_epochs)
    return epochs


def fixed_source(loader, description: str) -> DataSource:
    """A data set that takes no ``--data``: ``loader() -> (X_train, y_train, X_test, y_test)``."""
    def load(data, quick, seed):
        return (*loader(), description, {})
    return DataSource(load, description)


def mnist_source(full_epochs: int | None = None) -> DataSource:
    """MNIST images (N, 28, 28) in [0, 1] with labels (N,): the embedded sample by default, ``full``
    or a directory of IDX files with ``--data``; ``quick`` takes the first 512 / 256 digits."""
    def load(data, quick, seed):
        from triptych.mnist import load_mnist
        mnist = load_mnist(data or "sample", seed=seed)
        X_train, y_train, X_test, y_test = mnist.X_train, mnist.y_train, mnist.X_test, mnist.y_test
        source = mnist.source
        if quick:
            X_train, y_train, X_test, y_test = (X_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN],
                                                X_test[:QUICK_TEST], y_test[:QUICK_TEST])
            source += f" — quick subset: {QUICK_TRAIN} train / {QUICK_TEST} test"
        return X_train, y_train, X_test, y_test, source, {}
    return DataSource(load, "MNIST digits", takes_data=True, data_help="sample | full | DIR",
                      default_data="sample", full_epochs=full_epochs)


def metrics(model: str, predictions: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Test metrics from predictions (as ``predict`` returns them) and targets.

    binary: loss (BCE, probabilities clipped to [1e-7, 1 − 1e-7]) and accuracy (p > 0.5);
    regression: loss (MSE), MAE, RMSE; reconstruction: loss (MSE on pixels), mse, bce; classification: loss (softmax CE) and accuracy; or the spec's own
    ``metrics`` where it declares them.
    """
    p = np.asarray(predictions, np.float64)
    spec = get_spec(model)
    if spec.metrics:
        return spec.metrics(p, np.asarray(y))
    task = spec.task
    if task == "binary":
        y = np.asarray(y, np.float64).reshape(p.shape)
        q = np.clip(p, 1e-7, 1 - 1e-7)
        return {"loss": float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))),
                "accuracy": float(np.mean((p > 0.5) == (y > 0.5)))}
    if task == "reconstruction":  # loss: the MSE on pixels; bce: the pixels' cross-entropy (clipped as Keras)
        y = np.asarray(y, np.float64).reshape(p.shape)
        q = np.clip(p, 1e-7, 1 - 1e-7)
        mse = float(np.mean((p - y) ** 2))
        return {"loss": mse, "mse": mse, "bce": float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))}
    if task == "regression":
        err = p - np.asarray(y, np.float64).reshape(p.shape)
        mse = float(np.mean(err ** 2))
        return {"loss": mse, "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(mse))}
    z = p - p.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    y = np.asarray(y)
    return {"loss": float(-np.mean(log_softmax[np.arange(len(y)), y])),
            "accuracy": float(np.mean(p.argmax(axis=1) == y))}


def train_with_curves(fw, net, X, y, X_test, y_test, **train) -> dict:
    """Train ``net`` in place (``fw.train(net, X, y, **train)``) and evaluate it before training and
    after every epoch on both sets.

    Returns {"train": [...], "test": [...]} (length epochs + 1: the loss of ``metrics``, i.e. the
    data loss alone, without any L2 penalty), "weights" (the final canonical weights) and
    "history" (what ``train`` returned).  The weights are copied after each epoch and evaluated
    after training with the framework's own ``predict``.
    """
    snapshots = [fw.get_weights(net)]
    history = fw.train(net, X, y, progress=lambda record: snapshots.append(fw.get_weights(net)), **train)
    final = fw.get_weights(net)
    curves = {"train": [], "test": []}
    for weights in snapshots:
        fw.set_weights(net, weights)
        curves["train"].append(metrics(net.model, fw.predict(net, X), y)["loss"])
        curves["test"].append(metrics(net.model, fw.predict(net, X_test), y_test)["loss"])
    fw.set_weights(net, final)
    return {**curves, "weights": final, "history": history}


def check_named_data(models, data: str | None, default: str | None = "sample") -> None:
    """A ``--data`` given for several models at once (the report's) must mean something to one of them: only
    sources with named variants (a ``default_data``, like MNIST's sample) take it.  Otherwise a ValueError
    naming the value and the models, never a value ignored without a word."""
    if data is None or data == default:
        return
    takers = [m for m in models if get_spec(m).data.default_data is not None]
    if not takers:
        raise ValueError(f"--data {data!r}: none of the selected models ({', '.join(models)}) takes --data; leave it "
                         f"out, or select a model that does")
