"""Test helpers shared by the layer-level tests."""
from __future__ import annotations

import numpy as np

from triptych.tolerances import FD_DELTA


def operation_fd_errors(op, x: np.ndarray, entries: int = 20, seed: int = 0) -> dict[str, float]:
    """A scratch operation's backward against central differences of L = Σ op(x) ⊙ R (R random).

    Checks ``entries`` sampled entries of the input and of every parameter; returns
    {"input" or parameter name: max error relative to the largest analytic gradient}.
    """
    rng = np.random.default_rng(seed)
    R = rng.normal(size=op.forward(x).shape)
    analytic = {"input": op.backward(R).copy(), **{k: v.copy() for k, v in getattr(op, "param_grads", {}).items()}}
    arrays = {"input": x, **getattr(op, "params", {})}
    errors = {}
    for name, array in arrays.items():
        flat = rng.choice(array.size, size=min(entries, array.size), replace=False)
        numeric = []
        for index in flat:
            pos = np.unravel_index(index, array.shape)
            original = array[pos]
            losses = []
            for sign in (1, -1):
                array[pos] = original + sign * FD_DELTA
                losses.append(float(np.sum(op.forward(x) * R)))
            array[pos] = original
            numeric.append((losses[0] - losses[1]) / (2 * FD_DELTA))
        grad = analytic[name]
        errors[name] = float(np.max(np.abs(np.array(numeric) - grad.reshape(-1)[flat])) / np.max(np.abs(grad)))
    return errors


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8 values; 3-D images or 1-D labels) as an IDX file: magic, dimensions, bytes."""
    magic = {3: 0x0803, 1: 0x0801}[array.ndim]
    return (magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
            + array.astype(np.uint8).tobytes())
