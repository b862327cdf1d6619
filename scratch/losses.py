"""Losses: ``forward(prediction, target) -> float`` and ``backward() -> dL/d(prediction)``.

All three reduce by the mean over the batch (Keras's "sum over batch size", torch's "mean").
"""
from __future__ import annotations

import numpy as np

from scratch.ops import assert_same_shape

BCE_EPSILON = 1e-7  # Keras's clip of probabilities to [ε, 1 − ε]


class Loss:
    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        self.prediction, self.target = prediction, target
        return float(self._loss())

    def backward(self) -> np.ndarray:
        grad = self._grad()
        assert_same_shape(self.prediction, grad, f"{type(self).__name__} gradient")
        return grad


class MeanSquaredError(Loss):
    """L = mean((p − y)²) over all N·k entries;  dL/dp = 2 (p − y) / (N·k).   p, y (N, k)."""

    def _loss(self):
        assert_same_shape(self.prediction, self.target, "target")
        return np.mean((self.prediction - self.target) ** 2)

    def _grad(self):
        return 2.0 * (self.prediction - self.target) / self.prediction.size


class BinaryCrossEntropy(Loss):
    """L = −mean(y log p + (1 − y) log(1 − p)), p clipped to [ε, 1 − ε] (ε = 1e-7, as Keras).

    dL/dp = (p − y) / (p (1 − p)) / N inside the clip, 0 where the clip is active.  p, y (N, 1).
    """

    def _loss(self):
        assert_same_shape(self.prediction, self.target, "target")
        p = np.clip(self.prediction, BCE_EPSILON, 1.0 - BCE_EPSILON)
        y = self.target
        return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))

    def _grad(self):
        p, y = self.prediction, self.target
        inside = (p > BCE_EPSILON) & (p < 1.0 - BCE_EPSILON)
        pc = np.clip(p, BCE_EPSILON, 1.0 - BCE_EPSILON)
        return np.where(inside, (pc - y) / (pc * (1.0 - pc)), 0.0) / p.size


class SoftmaxCrossEntropy(Loss):
    """L = −mean_n log softmax(z_n)[y_n] from logits z (N, C) and integer labels y (N,).

    dL/dz = (softmax(z) − onehot(y)) / N.
    """

    def _loss(self):
        z = self.prediction - self.prediction.max(axis=1, keepdims=True)
        log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.softmax = np.exp(log_softmax)
        return -np.mean(log_softmax[np.arange(len(z)), self.target])

    def _grad(self):
        grad = self.softmax.copy()
        grad[np.arange(len(grad)), self.target] -= 1.0
        return grad / len(grad)


LOSSES = {"mse": MeanSquaredError, "bce": BinaryCrossEntropy, "softmax_ce": SoftmaxCrossEntropy}
