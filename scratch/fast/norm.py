"""The tuned BatchNorm: :class:`scratch.layers.BatchNorm` over the channel axis, the same numbers
(parity_tests/test_scratch_kernels.py) in fewer passes over the (m, C) rows of x (m = N·H·W values per channel):

- the per-channel sums are one BLAS product with a row of ones, 1ᵀ A, and the per-channel dot products
  Σ_r a[r, c] b[r, c] one einsum pass, with no product array written;
- training forward: μ = 1ᵀx / m, the centred copy x − μ, σ² = Σ (x − μ)² / m, then y = (x − μ) ⊙ (γ ⊙ inv_std) + β;
  the centred copy is kept (x̂ = (x − μ) ⊙ inv_std is never written out);
- backward, with dβ = 1ᵀ dy and dγ = Σ dy ⊙ x̂ = inv_std ⊙ Σ dy ⊙ (x − μ) (the parameter gradients, computed
  first), the input gradient of the reference, (g − mean g − x̂ · mean(g ⊙ x̂)) · inv_std with g = γ dy, becomes
        dx = γ · inv_std · (dy − dβ / m − (x − μ) · inv_std · dγ / m)
  since mean g = γ dβ / m and mean(g ⊙ x̂) = γ dγ / m;  inference: dx = dy · γ · inv_std.
"""
from __future__ import annotations

import numpy as np

from scratch import layers
from scratch.fast.ops import single_blas_thread


def column_sums(a: np.ndarray) -> np.ndarray:
    """Σ over the rows of a (m, C): 1ᵀ a as one BLAS product, on one thread (a matrix-vector product is bound
    by memory, and a second thread only waits for it)."""
    with single_blas_thread():
        return np.ones(len(a), dtype=a.dtype) @ a


def column_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_r a[r, c] · b[r, c] for each column c of two (m, C) arrays, in one pass (no a ⊙ b written)."""
    return np.einsum("rc,rc->c", a, b)


class BatchNorm(layers.BatchNorm):
    """:class:`scratch.layers.BatchNorm` on the (m, C) rows of x; same parameters, state and conventions."""

    def _output(self):
        x, gamma, beta = self.input, self.params["gamma"], self.params["beta"]
        rows = x.reshape(-1, x.shape[-1])
        if self.training:
            mean = column_sums(rows) / len(rows)
            self.centred = rows - mean
            var = column_dots(self.centred, self.centred) / len(rows)
            for key, batch in (("moving_mean", mean), ("moving_variance", var)):
                moving = self.state[key]
                moving *= self.momentum
                moving += (1.0 - self.momentum) * batch
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
            self.centred = rows - mean
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)
        y = self.centred * (gamma * self.inv_std)
        y += beta
        return y.reshape(x.shape)

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dβ and dγ first: the input gradient in training uses both."""
        dy = output_grad.reshape(-1, output_grad.shape[-1])
        self.sums = {"gamma": column_dots(dy, self.centred) * self.inv_std, "beta": column_sums(dy)}
        return super().backward(output_grad, input_grad)

    def _input_grad(self, output_grad):
        dy, scale = output_grad.reshape(-1, output_grad.shape[-1]), self.params["gamma"] * self.inv_std
        if not self.training:
            return (dy * scale).reshape(output_grad.shape)
        m = len(dy)
        dx = self.centred * (self.inv_std * (-self.sums["gamma"] / m))
        dx += dy
        dx -= self.sums["beta"] / m
        dx *= scale
        return dx.reshape(output_grad.shape)

    def _param_grads(self, output_grad):
        return self.sums
