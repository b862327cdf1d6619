"""The one seeded minibatch sampler every framework uses, so all three see the same batches."""
from __future__ import annotations

import numpy as np


def epoch_batches(n: int, batch_size: int | None, seed: int, epoch: int) -> list[np.ndarray]:
    """Index arrays of the minibatches of epoch ``epoch``.

    A permutation of range(n) drawn from ``default_rng([seed, epoch])`` cut into
    consecutive batches of ``batch_size`` (the last one may be smaller).
    ``batch_size=None`` (or ≥ n) is full batch: one batch, rows in their order.
    """
    if n <= 0:
        raise ValueError(f"cannot make batches from {n} samples")
    if batch_size is not None and batch_size <= 0:
        raise ValueError(f"batch size must be a positive integer or None, got {batch_size}")
    if batch_size is None or batch_size >= n:
        return [np.arange(n)]
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def steps_per_epoch(n: int, batch_size: int | None) -> int:
    return 1 if batch_size is None or batch_size >= n else -(-n // batch_size)
