"""Each model's standard experiment: its data (train/test split and where it came from) and its
metrics.  Shared by ``triptych train``, the report and the accuracy tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from common.specs import get_spec

QUICK_TRAIN, QUICK_TEST = 512, 256  # --quick: MNIST subsets


@dataclass
class Experiment:
    model: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str  # where the data came from, printed and recorded
    overrides: dict = field(default_factory=dict)  # spec overrides the data implies (e.g. in_features)


def load_experiment(model: str, data: str | None = None, quick: bool = False, seed: int = 0) -> Experiment:
    """The data of ``model``'s standard experiment.

    ``data``: for linreg a CSV path (last column the target); for the MNIST models
    "sample" (default, offline), "full" or a directory of IDX files; ignored by xor and house_mlp.
    """
    get_spec(model)
    if model == "xor":
        from common.data import xor_data
        X, y = xor_data()
        return Experiment(model, X, y, X, y, "the four XOR points (train = test)")
    if model == "linreg":
        from common.data import linreg_data, load_csv
        if data:
            X, y = load_csv(data)
            return Experiment(model, X, y, X, y, f"CSV {data} ({len(X)} rows × {X.shape[1]} features; train = test)",
                              {"in_features": X.shape[1]})
        X, y = linreg_data(1000, seed=seed)
        X_test, y_test = linreg_data(200, seed=seed + 1)
        return Experiment(model, X, y, X_test, y_test,
                          "synthetic: y = X·[2, −3.4] + 4.2 + N(0, 0.01²), 1000 train / 200 test rows")
    if model == "house_mlp":
        from common.data import boston_data
        X_train, X_test, y_train, y_test = boston_data()
        return Experiment(model, X_train, y_train, X_test, y_test,
                          "Boston housing from mlxtend (506 × 13), split 70/30 with random_state=80718, "
                          "standardised with training statistics")
    from common.mnist import load_mnist
    mnist = load_mnist(data or "sample", seed=seed)
    X_train, y_train, X_test, y_test = mnist.X_train, mnist.y_train, mnist.X_test, mnist.y_test
    source = mnist.source
    if quick:
        X_train, y_train, X_test, y_test = (X_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN],
                                            X_test[:QUICK_TEST], y_test[:QUICK_TEST])
        source += f" — quick subset: {QUICK_TRAIN} train / {QUICK_TEST} test"
    return Experiment(model, X_train, y_train, X_test, y_test, source)


def metrics(model: str, predictions: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Test metrics from predictions (as ``predict`` returns them) and targets.

    binary: loss (BCE, probabilities clipped to [1e-7, 1 − 1e-7]) and accuracy (p > 0.5);
    regression: loss (MSE), MAE, RMSE; classification: loss (softmax CE) and accuracy.
    """
    p = np.asarray(predictions, np.float64)
    task = get_spec(model).task
    if task == "binary":
        y = np.asarray(y, np.float64).reshape(p.shape)
        q = np.clip(p, 1e-7, 1 - 1e-7)
        return {"loss": float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))),
                "accuracy": float(np.mean((p > 0.5) == (y > 0.5)))}
    if task == "regression":
        err = p - np.asarray(y, np.float64).reshape(p.shape)
        mse = float(np.mean(err ** 2))
        return {"loss": mse, "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(mse))}
    z = p - p.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    y = np.asarray(y)
    return {"loss": float(-np.mean(log_softmax[np.arange(len(y)), y])),
            "accuracy": float(np.mean(p.argmax(axis=1) == y))}
