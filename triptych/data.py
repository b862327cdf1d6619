"""Data loaders shared by the three frameworks.  Each returns NumPy arrays; nothing downloads at import.

Shapes: features (N, F) float64, regression/binary targets (N, 1) float64.
"""
from __future__ import annotations

import numpy as np

LINREG_TRUE_W = np.array([2.0, -3.4])
LINREG_TRUE_B = 4.2


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: X (4, 2), y (4, 1)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return X, y


def linreg_data(n: int = 1000, w=LINREG_TRUE_W, b: float = LINREG_TRUE_B, noise: float = 0.01,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """y = X·w + b + ε with X ~ N(0, 1) of shape (n, len(w)), ε ~ N(0, noise²): X (n, F), y (n, 1)."""
    rng = np.random.default_rng(seed)
    w = np.asarray(w, dtype=np.float64)
    X = rng.normal(size=(n, len(w)))
    y = X @ w + b + rng.normal(scale=noise, size=n)
    return X, y.reshape(-1, 1)


def load_csv(path: str, target: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Numeric CSV (an optional header row is skipped): the ``target`` column is y (N, 1), the rest X (N, F)."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [line.strip() for line in fh if line.strip()]
    except OSError as exc:
        raise ValueError(f"cannot read CSV {path!r}: {exc.strerror}") from None
    if lines and not _is_numeric_row(lines[0]):
        lines = lines[1:]
    if not lines:
        raise ValueError(f"CSV {path!r} has no data rows")
    rows = [line.split(",") for line in lines]
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"CSV {path!r}: data row {number} has {len(row)} columns, expected {width}")
        if not _is_numeric_row(",".join(row)):
            raise ValueError(f"CSV {path!r}: data row {number} is not all numbers: {','.join(row)!r}")
    if width < 2:
        raise ValueError(f"CSV {path!r} needs at least 2 columns (features and a target), got {width}")
    table = np.array(rows, dtype=np.float64)
    if not np.all(np.isfinite(table)):
        raise ValueError(f"CSV {path!r} contains NaN/inf values")
    y = table[:, target].reshape(-1, 1)
    X = np.delete(table, target % width, axis=1)
    return X, y


def _is_numeric_row(line: str) -> bool:
    try:
        [float(cell) for cell in line.split(",")]
        return True
    except ValueError:
        return False


def boston_data(test_size: float = 0.3, random_state: int = 80718):
    """Boston housing (506 × 13, shipped in mlxtend): X_train, X_test, y_train (N, 1), y_test.

    The split is scikit-learn's ``train_test_split(test_size=0.3, random_state=80718)`` on the
    rows in their original order, reproduced with NumPy: p = RandomState(80718).permutation(506),
    test = p[:⌈0.3·506⌉], train = the rest.  Features are standardised with the training rows'
    mean and (population) standard deviation only.
    """
    from mlxtend.data import boston_housing_data

    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be strictly between 0 and 1 (both splits non-empty), got {test_size}")
    X, y = boston_housing_data()
    n_test = int(np.ceil(test_size * len(X)))
    if n_test >= len(X):
        raise ValueError(f"test_size {test_size} leaves no training rows out of {len(X)}")
    order = np.random.RandomState(random_state).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    scale = lambda rows: (X[rows] - mean) / std  # noqa: E731
    return scale(train), scale(test), y[train].reshape(-1, 1), y[test].reshape(-1, 1)


def breast_cancer_data(test_size: float = 0.3, random_state: int = 0):
    """scikit-learn's breast-cancer table (569 × 30; y = 1 benign, 0 malignant): X_train, X_test,
    y_train (N, 1), y_test.

    ``train_test_split(test_size=0.3, stratify=y, random_state=0)``: 398 / 171 rows with the classes in
    the same proportion in both (the seed is the conventional 0, fixed before any model was scored).
    Features are standardised with the training rows' mean and (population) standard deviation only.
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be strictly between 0 and 1 (both splits non-empty), got {test_size}")
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y.astype(np.float64), test_size=test_size,
                                                        stratify=y, random_state=random_state)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return (X_train - mean) / std, (X_test - mean) / std, y_train.reshape(-1, 1), y_test.reshape(-1, 1)
