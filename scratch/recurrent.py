"""The LSTM: one fused matmul for the four gates per step, vectorised over the batch, with full
backpropagation through time.  Gate order i, f, g, o along the last axis (Keras's and torch's).
"""
from __future__ import annotations

import numpy as np

from scratch.layers import Layer
from scratch.ops import ParamOperation, single_blas_thread


class LSTM(ParamOperation):
    """x (N, T, F), W (F, 4u), U (u, 4u), b (4u,) → h (N, T, u) (``return_sequences``) or h_T (N, u).

    With h₀ = c₀ = 0, for t = 1..T:
        z = x_t W + h_{t−1} U + b = [z_i, z_f, z_g, z_o]
        i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh z_g
        c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh c_t
    Backward, t = T..1, with dh_t (from the output and from step t + 1) and dc_t:
        do = dh_t ⊙ tanh c_t;  dc_t += dh_t ⊙ o ⊙ (1 − tanh² c_t)
        di = dc_t ⊙ g;  df = dc_t ⊙ c_{t−1};  dg = dc_t ⊙ i;  dc_{t−1} = dc_t ⊙ f
        dz = [di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o)];  dh_{t−1} = dz Uᵀ
    and then dW = Σ_t x_tᵀ dz_t,  dU = Σ_t h_{t−1}ᵀ dz_t,  db = Σ_t Σ_n dz_t,  dx_t = dz_t Wᵀ.
    """

    def __init__(self, W: np.ndarray, U: np.ndarray, b: np.ndarray, return_sequences: bool = False):
        units = U.shape[0]
        if W.shape[1] != 4 * units or U.shape != (units, 4 * units) or b.shape != (4 * units,):
            raise ValueError(f"LSTM weights must be W (F, 4u), U (u, 4u), b (4u,); got {W.shape}, {U.shape}, {b.shape}")
        super().__init__(W=W, U=U, b=b)
        self.units, self.return_sequences = units, return_sequences

    def _output(self):
        x, W, U = self.input, self.params["W"], self.params["U"]
        if x.ndim != 3 or x.shape[2] != W.shape[0]:
            raise ValueError(f"LSTM expects input (N, T, {W.shape[0]}), got {x.shape}")
        n, steps, u = x.shape[0], x.shape[1], self.units
        # σ(z) = (1 + tanh(z/2)) / 2, so one tanh activates all four gates: halve the σ-gates' columns of
        # W, U and b once, then a ← tanh(a)·m + k with m = k = ½ on the σ-gates (m = 1, k = 0 on g)
        half = np.full(4 * u, 0.5, dtype=x.dtype)
        half[2 * u:3 * u] = 1.0
        shift = 1.0 - half
        # time-major buffers, so that every step reads and writes contiguous (N, ·) blocks; the input part
        # x_t W + b of every step in one matmul, straight into the gate buffer
        self.x_rows = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(steps * n, -1)  # (T·N, F)
        self.gates = np.matmul(self.x_rows, W * half).reshape(steps, n, 4 * u)  # activated i, f, g, o
        self.gates += self.params["b"] * half
        U_half = U * half
        self.c = np.zeros((steps + 1, n, u), dtype=x.dtype)  # c[t + 1] = c_t; c[0] = c₀ = 0
        self.h = np.zeros((steps + 1, n, u), dtype=x.dtype)
        self.tanh_c = np.empty((steps, n, u), dtype=x.dtype)
        recurrent, product = np.empty((n, 4 * u), dtype=x.dtype), np.empty((n, u), dtype=x.dtype)
        with single_blas_thread():
            for t in range(steps):
                a = self.gates[t]
                a += np.matmul(self.h[t], U_half, out=recurrent)
                np.tanh(a, out=a)
                a *= half
                a += shift
                np.multiply(a[:, u:2 * u], self.c[t], out=self.c[t + 1])  # f ⊙ c_{t−1}
                self.c[t + 1] += np.multiply(a[:, :u], a[:, 2 * u:3 * u], out=product)  # + i ⊙ g
                np.tanh(self.c[t + 1], out=self.tanh_c[t])
                np.multiply(a[:, 3 * u:], self.tanh_c[t], out=self.h[t + 1])  # o ⊙ tanh c_t
        return self.h[1:].transpose(1, 0, 2).copy() if self.return_sequences else self.h[-1].copy()

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagation through time first (dz feeds both the input and the parameter gradients)."""
        self._bptt(output_grad)
        return super().backward(output_grad, input_grad)

    def _bptt(self, output_grad):
        steps, n, u = self.gates.shape[0], self.gates.shape[1], self.units
        a = self.gates
        i, f, g, o = a[..., :u], a[..., u:2 * u], a[..., 2 * u:3 * u], a[..., 3 * u:]
        # every factor that does not depend on the incoming gradient, for all steps at once:
        # dz = [dc, dc, dc, dh] ⊙ [g, c_{t−1}, i, tanh c_t] ⊙ [σ', σ', tanh', σ'] and dc gets dh ⊙ o ⊙ tanh'(c_t)
        local = 1.0 - a
        local *= a  # σ' = σ(1 − σ) on all four blocks, then tanh' = 1 − g² on g's
        np.multiply(g, g, out=local[..., 2 * u:3 * u])
        np.subtract(1.0, local[..., 2 * u:3 * u], out=local[..., 2 * u:3 * u])
        for k, partner in enumerate((g, self.c[:-1], i, self.tanh_c)):
            local[..., k * u:(k + 1) * u] *= partner
        local = local.reshape(steps, n, 4, u)
        dc_from_h = self.tanh_c * self.tanh_c
        np.subtract(1.0, dc_from_h, out=dc_from_h)
        dc_from_h *= o
        dh_out = output_grad.transpose(1, 0, 2) if self.return_sequences else None
        self.dz = np.empty((steps, n, 4, u), dtype=output_grad.dtype)
        dh = np.zeros((n, u), dtype=output_grad.dtype) if self.return_sequences else output_grad.copy()
        dc, product = np.zeros((n, u), dtype=output_grad.dtype), np.empty((n, u), dtype=output_grad.dtype)
        U_T = np.ascontiguousarray(self.params["U"].T)
        with single_blas_thread():
            for t in reversed(range(steps)):
                if dh_out is not None:
                    dh += dh_out[t]
                dc += np.multiply(dh, dc_from_h[t], out=product)
                np.multiply(dc[:, None, :], local[t, :, :3], out=self.dz[t, :, :3])
                np.multiply(dh, local[t, :, 3], out=self.dz[t, :, 3])
                dc *= f[t]
                np.matmul(self.dz[t].reshape(n, 4 * u), U_T, out=dh)
        self.dz = self.dz.reshape(steps * n, 4 * u)

    def _input_grad(self, output_grad):
        steps, n = self.gates.shape[:2]
        return (self.dz @ self.params["W"].T).reshape(steps, n, -1).transpose(1, 0, 2)

    def _param_grads(self, output_grad):
        return {"W": self.x_rows.T @ self.dz, "U": self.h[:-1].reshape(-1, self.units).T @ self.dz,
                "b": self.dz.sum(axis=0)}


class LSTMLayer(Layer):
    """An :class:`LSTM` as a layer: parameters ``<name>.W``, ``<name>.U``, ``<name>.b``."""

    def __init__(self, name: str, W: np.ndarray, U: np.ndarray, b: np.ndarray, return_sequences: bool = False):
        super().__init__(name, [LSTM(W, U, b, return_sequences)])
