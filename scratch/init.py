"""Weight initialisers: ``init(rng, shape, fan_in, fan_out, dtype) -> array``.

Glorot/Xavier: Var = 2 / (fan_in + fan_out);  He/Kaiming: Var = 2 / fan_in.
Uniform versions draw U(−a, a) with a = √(3·Var); normal versions N(0, Var)
(Keras truncates its normals at 2σ and rescales; torch and scratch do not).
"""
from __future__ import annotations

import numpy as np


def glorot_uniform(rng, shape, fan_in, fan_out, dtype):
    """U(−a, a), a = √(6 / (fan_in + fan_out))   (Keras's default)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


def glorot_normal(rng, shape, fan_in, fan_out, dtype):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape).astype(dtype)


def he_uniform(rng, shape, fan_in, fan_out, dtype):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape).astype(dtype)


def he_normal(rng, shape, fan_in, fan_out, dtype):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype(dtype)


def zeros(rng, shape, fan_in, fan_out, dtype):
    return np.zeros(shape, dtype)


def orthogonal(rng, shape, fan_in, fan_out, dtype):
    """A (rows, cols) matrix with orthonormal rows or columns: Q of the QR of a Gaussian matrix,
    signs fixed by diag(R) (Keras's default for recurrent kernels)."""
    rows, cols = shape
    a = rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    return (q if rows >= cols else q.T).astype(dtype)


INITIALIZERS = {"glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal, "he_uniform": he_uniform,
                "he_normal": he_normal, "zeros": zeros}
DENSE_INITS = ("default", *INITIALIZERS)  # the values of the spec key ``init``


def get_initializer(name: str):
    """The initialiser for a spec's ``init``; "default" is Glorot-uniform (as in Keras)."""
    if name not in DENSE_INITS:
        raise ValueError(f"unknown init {name!r}; expected one of {', '.join(DENSE_INITS)}")
    return INITIALIZERS["glorot_uniform" if name == "default" else name]
