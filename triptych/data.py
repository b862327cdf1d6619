"""Data loaders shared by the three frameworks.  Each returns NumPy arrays; nothing downloads at import.

Shapes: features (N, F) float64, regression/binary targets (N, 1) float64.
"""
from __future__ import annotations

import re

import numpy as np

from triptych.options import integer

_TARGET = integer(None)
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


# A plain decimal number: 12, -0.5, .5, 5., 1e-3 (no NaN/inf, no thousands separators, no underscores)
NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NOT_FINITE = r"[+-]?(?:nan|inf|infinity)"


def load_csv(path: str, target: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """A numeric CSV as X (N, F) and y (N, 1): the ``target`` column is y, the others X.

    Accepted: UTF-8 text, gzip-compressed or not, comma-separated, one sample per line (blank lines
    skipped), at least two columns, every data cell a plain decimal number (``12``, ``-0.5``, ``1e-3``).
    Header rule: the first line is a header when every cell is a name (not a number, not empty); a first
    line of numbers is data; a first line with an empty cell, or mixing names and numbers, is an error.
    Refused with the data row and column named: empty cells, NaN/inf, anything else that is not a plain
    number (``1_000``, ``1,000`` in quotes, ``0x10``), rows of another width.
    """
    import pandas as pd

    shown = repr(str(path))
    try:
        with open(path, "rb") as fh:
            gzipped = fh.read(2) == b"\x1f\x8b"
        table = pd.read_csv(path, header=None, dtype=str, na_filter=False, skip_blank_lines=True,
                            compression="gzip" if gzipped else None, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ValueError(f"CSV {shown} has no data rows") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"CSV {shown} is malformed: {str(exc).strip()} (every row needs the same number of "
                         f"comma-separated cells)") from None
    except UnicodeDecodeError:
        raise ValueError(f"CSV {shown} is not UTF-8 text (plain or gzip-compressed CSV expected)") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read CSV {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    cells = table.apply(lambda column: column.str.strip())
    numeric = cells.apply(lambda column: column.str.fullmatch(NUMBER)).to_numpy(dtype=bool)
    empty = (cells == "").to_numpy()
    if empty[0].any():
        raise ValueError(f"CSV {shown}: the first row has an empty cell (column {int(np.argmax(empty[0])) + 1}); "
                         f"a header names every column and a data row has a number in every cell")
    if not numeric[0].any():  # a header of names
        cells, numeric, empty = cells.iloc[1:], numeric[1:], empty[1:]
    elif not numeric[0].all():
        raise ValueError(f"CSV {shown}: the first row mixes names and numbers ({', '.join(cells.iloc[0])}); "
                         f"expected a header of names only or a row of plain numbers only (no underscores, "
                         f"thousands separators or NaN/inf)")
    if len(cells) == 0:
        raise ValueError(f"CSV {shown} has no data rows")
    width = cells.shape[1]
    if width < 2:
        raise ValueError(f"CSV {shown} needs at least 2 comma-separated columns (features and a target), got {width}")
    if not numeric.all():
        row, column = (int(i) for i in np.argwhere(~numeric)[0])
        value = cells.iat[row, column]
        why = ("is empty" if empty[row, column] else
               f"is {value!r}: NaN/inf are not accepted" if re.fullmatch(_NOT_FINITE, value, re.IGNORECASE)
               else f"is {value!r}, not a plain number (no thousands separators or underscores)")
        raise ValueError(f"CSV {shown}: data row {row + 1}, column {column + 1} {why}")
    with np.errstate(over="ignore"):
        data = cells.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"CSV {shown} holds numbers beyond float64's range (NaN/inf are not accepted)")
    target = _TARGET(None, "target", target)
    if not -width <= target < width:
        raise ValueError(f"CSV {shown}: target column {target} does not exist in {width} columns")
    return np.delete(data, target % width, axis=1), data[:, target].reshape(-1, 1)


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
