"""Input checks shared by the three frameworks: shapes, dtypes, NaN/inf, label ranges.

Every check raises a ValueError that names the model, the argument, what was
expected and what was given.  Arrays come back converted, never modified in place.
"""
from __future__ import annotations

import numpy as np

from triptych.registry import get_spec


def expected_input_shape(name: str, config: dict) -> tuple:
    """Per-sample input shape (the spec's ``input_shape``); None marks a free axis (a sequence length)."""
    return tuple(get_spec(name).input_shape(config))


def _shape_text(shape: tuple) -> str:
    return "(N, " + ", ".join("T" if s is None else str(s) for s in shape) + ")"


def check_X(name: str, config: dict, X, dtype: str) -> np.ndarray:
    """X as a ``dtype`` array of shape (N, *per-sample shape), finite, N ≥ 1; real numbers only (no
    strings, no complex numbers, whose imaginary part a cast would drop)."""
    arr = _real_array(name, "input X", X)
    with np.errstate(over="ignore"):
        cast = arr.astype(dtype, copy=False)
    want = expected_input_shape(name, config)
    ok = arr.ndim == len(want) + 1 and all(w is None or w == s for w, s in zip(want, arr.shape[1:]))
    if not ok or arr.shape[0] == 0 or (None in want and arr.shape[1] == 0):
        raise ValueError(f"{name}: input X has shape {arr.shape}, expected {_shape_text(want)} with N ≥ 1")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: input X contains {bad} NaN/inf value(s); expected finite numbers")
    if not np.all(np.isfinite(cast)):
        raise ValueError(f"{name}: input X holds values up to {np.max(np.abs(arr)):.3g}, beyond {dtype}'s range")
    return cast


def _real_array(name: str, what: str, value) -> np.ndarray:
    """``value`` as an array of booleans, integers or floats (not strings, objects or complex numbers,
    whose imaginary part a cast would silently drop)."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {what} must be an array of real numbers, got {type(value).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: {what} must be an array of real numbers, got {type(value).__name__} of "
                         f"dtype {arr.dtype}")
    return arr


def check_y(name: str, config: dict, y, n: int, dtype: str) -> np.ndarray:
    """Targets: (N, 1) float for regression/binary (a 1-D (N,) is reshaped); (N,) int labels
    in [0, num_classes) for classification; for reconstruction (N, *input shape) floats in [0, 1] (the images)."""
    task = get_spec(name).task
    arr = _real_array(name, "targets y", y)
    if task == "reconstruction":
        shape = (n, *expected_input_shape(name, config))
        if arr.shape != shape:
            raise ValueError(f"{name}: targets y have shape {arr.shape}, expected {shape}: the images to reconstruct")
        with np.errstate(over="ignore"):
            arr = arr.astype(dtype)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: targets y contain NaN/inf; expected finite numbers")
        if arr.min() < 0 or arr.max() > 1:
            raise ValueError(f"{name}: targets y must lie in [0, 1] (pixels), got {arr.min()}..{arr.max()}")
        return arr
    if task == "classification":
        classes = config["num_classes"]
        if arr.shape != (n,):
            raise ValueError(f"{name}: labels y have shape {arr.shape}, expected ({n},) integer class labels")
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValueError(f"{name}: labels y must be whole numbers 0..{classes - 1}, got non-integer values")
        elif arr.dtype.kind not in "iu":
            raise ValueError(f"{name}: labels y must be integers, got dtype {arr.dtype}")
        if arr.min() < 0 or arr.max() >= classes:
            raise ValueError(f"{name}: labels y must lie in 0..{classes - 1}, got values in {arr.min()}..{arr.max()}")
        return arr.astype(np.int64)
    with np.errstate(over="ignore"):
        arr = arr.astype(dtype)
    if arr.shape == (n,):
        arr = arr.reshape(n, 1)
    if arr.shape != (n, 1):
        raise ValueError(f"{name}: targets y have shape {arr.shape}, expected ({n}, 1) or ({n},) to match X")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: targets y contain NaN/inf; expected finite numbers")
    if task == "binary" and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(f"{name}: binary targets y must lie in [0, 1], got {arr.min()}..{arr.max()}")
    return arr


DTYPES = ("float32", "float64")  # what every framework builds and trains in


def check_dtype(dtype) -> str:
    """One of DTYPES, 'float32' or 'float64' (a NumPy type or dtype naming one is accepted too)."""
    name = dtype
    if not isinstance(dtype, str) and dtype is not None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            pass
    if name not in DTYPES:
        raise ValueError(f"dtype must be {' or '.join(map(repr, DTYPES))}, got {dtype!r}")
    return name
