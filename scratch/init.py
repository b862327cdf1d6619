"""Weight initialisers: ``init(rng, shape, fan_in, fan_out, dtype) -> array``."""
from __future__ import annotations

import numpy as np


def glorot_uniform(rng, shape, fan_in, fan_out, dtype):
    """U(−a, a), a = sqrt(6 / (fan_in + fan_out))   (Keras's default)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


def zeros(rng, shape, fan_in, fan_out, dtype):
    return np.zeros(shape, dtype)


INITIALIZERS = {"glorot_uniform": glorot_uniform, "zeros": zeros}
