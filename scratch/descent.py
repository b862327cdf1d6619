"""Gradient descent on a curve from scratch (NumPy): minimise f(x) = x²·sin x, the derivative by hand.

Sections, as in torch_impl/descent.py and keras_impl/descent.py: data → model → loss → optimizer → training.
"""
from __future__ import annotations

import numpy as np

from scratch.optimizers import make_optimizer

__all__ = ["f", "grad_f", "descend"]


# ---- data: none; the curve is the problem and x₀ the start (triptych/studies/descent.py)
# ---- model: one variable x, an array of shape (1,) that the optimizer updates in place
# ---- loss: f(x) = x²·sin x, with its derivative written by hand: f'(x) = 2x·sin x + x²·cos x
def f(x: np.ndarray) -> np.ndarray:
    return x ** 2 * np.sin(x)


def grad_f(x: np.ndarray) -> np.ndarray:
    return 2 * x * np.sin(x) + x ** 2 * np.cos(x)


# ---- optimizer: scratch.optimizers' SGD (momentum), RMSprop or Adam, as the plan asks (make_optimizer)
# ---- training: ``steps`` updates x ← step(x, f'(x)); returns the path x₀, x₁, …, x_steps (steps + 1,)
def descend(x0: float, steps: int, plan) -> np.ndarray:
    x = np.array([x0], dtype=np.float64)
    optimizer = make_optimizer(plan)
    path = [x[0]]
    for _ in range(steps):
        optimizer.step({"x": x}, {"x": grad_f(x)})
        path.append(x[0])
    return np.array(path)
