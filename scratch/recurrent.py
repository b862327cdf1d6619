"""Recurrent layers: the simple tanh RNN, the GRU and the LSTM, vectorised over the batch, with full
backpropagation through time.

All three read x (N, T, F) from h₀ = 0 and return the last state h_T (N, u), or every state
(N, T, u) with ``return_sequences`` (so that layers can be stacked).  Kernels hold their gate blocks
side by side along the last axis: W (F, k·u), U (u, k·u).  The input part x_t W of every step is one
matmul for the whole sequence; each step then needs one matmul, h_{t−1} U, forward and one, dz Uᵀ,
backward; the kernel gradients are again one matmul each over all steps.
"""
from __future__ import annotations

import numpy as np

from scratch.layers import Layer
from scratch.ops import ParamOperation, sigmoid, single_blas_thread


class Recurrent(ParamOperation):
    """What the three cells share: weight and input checks, the time-major layout of the states,
    the output (last state or the sequence) and the start of the backward pass.

    Subclasses set ``GATES`` (k, gate blocks in the kernels) and ``BIAS_ROWS`` (1: b (k·u,);
    2: b (2, k·u), an input and a recurrent bias)."""

    GATES = 1
    BIAS_ROWS = 1

    def __init__(self, W: np.ndarray, U: np.ndarray, b: np.ndarray, return_sequences: bool = False):
        units, k = U.shape[0], self.GATES
        bias = (k * units,) if self.BIAS_ROWS == 1 else (self.BIAS_ROWS, k * units)
        if W.ndim != 2 or W.shape[1] != k * units or U.shape != (units, k * units) or b.shape != bias:
            raise ValueError(f"{type(self).__name__} weights must be W (F, {k}u), U (u, {k}u), b {bias} "
                             f"(u = {units}); got {W.shape}, {U.shape}, {b.shape}")
        super().__init__(W=W, U=U, b=b)
        self.units, self.return_sequences = units, return_sequences

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray:
        """Backpropagation through time runs in full even when the input gradient is not wanted (the
        first layer while training): its dz_t feed the parameter gradients too."""
        return super().backward(output_grad, True)

    def _time_major_input(self) -> np.ndarray:
        """The input as (T, N, F), so that every step reads and writes contiguous (N, ·) blocks."""
        x, f = self.input, self.params["W"].shape[0]
        if x.ndim != 3 or x.shape[2] != f:
            raise ValueError(f"{type(self).__name__} expects input (N, T, {f}), got {x.shape}")
        return x.transpose(1, 0, 2)

    def _states(self, steps: int, n: int, dtype) -> np.ndarray:
        """h[t] = h_t for t = 0..T, time-major (T + 1, N, u), with h[0] = h₀ = 0."""
        self.h = np.zeros((steps + 1, n, self.units), dtype=dtype)
        return self.h

    def _result(self) -> np.ndarray:
        return self.h[1:].transpose(1, 0, 2).copy() if self.return_sequences else self.h[-1].copy()

    def _incoming(self, output_grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(dL/dh_t from the output for every step, time-major, or None; dL/dh_T before step T's share)."""
        if self.return_sequences:
            return output_grad.transpose(1, 0, 2), np.zeros(output_grad.shape[::2], dtype=output_grad.dtype)
        return None, output_grad.copy()

    def _kernel_grads(self, dz_input: np.ndarray, dz_recurrent: np.ndarray) -> dict[str, np.ndarray]:
        """dW = Σ_t x_tᵀ dz_t and dU = Σ_t h_{t−1}ᵀ dz'_t from the time-major (T, N, k·u) gradients of
        the input part (dz) and the recurrent part (dz') of the pre-activations."""
        x = self._time_major_input()
        return {"W": x.reshape(-1, x.shape[2]).T @ dz_input.reshape(-1, dz_input.shape[2]),
                "U": self.h[:-1].reshape(-1, self.units).T @ dz_recurrent.reshape(-1, dz_recurrent.shape[2])}


class SimpleRNN(Recurrent):
    """x (N, T, F), W (F, u), U (u, u), b (u,) → h_T (N, u) or h (N, T, u) (``return_sequences``).

        h_t = tanh(x_t W + h_{t−1} U + b)
    Backward, t = T..1, with dh_t (from the output and from step t + 1):
        dz_t = dh_t ⊙ (1 − h_t²);  dh_{t−1} = dz_t Uᵀ
    and dW = Σ_t x_tᵀ dz_t,  dU = Σ_t h_{t−1}ᵀ dz_t,  db = Σ_t Σ_n dz_t,  dx_t = dz_t Wᵀ.
    """

    def _output(self):
        x = self._time_major_input()
        xw = x @ self.params["W"] + self.params["b"]  # every step's input part: (T, N, u)
        h = self._states(x.shape[0], x.shape[1], x.dtype)
        with single_blas_thread():  # small per-step matmuls: a second BLAS thread costs more than it saves
            for t in range(x.shape[0]):
                np.matmul(h[t], self.params["U"], out=h[t + 1])
                h[t + 1] += xw[t]
                np.tanh(h[t + 1], out=h[t + 1])
        return self._result()

    def _input_grad(self, output_grad):
        dh_out, dh = self._incoming(output_grad)
        local = 1.0 - self.h[1:] * self.h[1:]  # tanh' at every step
        self.dz = np.empty_like(local)
        U_T = np.ascontiguousarray(self.params["U"].T)
        with single_blas_thread():  # small per-step matmuls: a second BLAS thread costs more than it saves
            for t in reversed(range(local.shape[0])):
                if dh_out is not None:
                    dh += dh_out[t]
                np.multiply(dh, local[t], out=self.dz[t])
                dh = self.dz[t] @ U_T
        return (self.dz @ self.params["W"].T).transpose(1, 0, 2)

    def _param_grads(self, output_grad):
        return {**self._kernel_grads(self.dz, self.dz), "b": self.dz.reshape(-1, self.units).sum(axis=0)}


class GRU(Recurrent):
    """x (N, T, F), W (F, 3u), U (u, 3u), b (2, 3u) → h_T (N, u) or h (N, T, u); gate blocks z, r, h
    (update, reset, candidate: Keras's order); b[0] is the input bias, b[1] the recurrent bias.
    The reset gate acts after the recurrent matmul (torch's GRU, Keras's ``reset_after=True``):

        [a_z, a_r, a_h] = x_t W + b[0];   [c_z, c_r, c_h] = h_{t−1} U + b[1]
        z = σ(a_z + c_z);  r = σ(a_r + c_r);  n = tanh(a_h + r ⊙ c_h)
        h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n
    Backward, t = T..1, with dh_t (from the output and from step t + 1):
        dn = dh_t ⊙ (1 − z) ⊙ (1 − n²)                       (d a_h)
        d a_z = d c_z = dh_t ⊙ (h_{t−1} − n) ⊙ z(1 − z)
        d a_r = d c_r = dn ⊙ c_h ⊙ r(1 − r);   d c_h = dn ⊙ r
        dh_{t−1} = dh_t ⊙ z + [d c_z, d c_r, d c_h] Uᵀ
    The factors after dh_t are computed for all steps at once; dW, dU, db and dx then follow from the
    input-side gradients [d a_z, d a_r, dn] and the recurrent-side ones [d c_z, d c_r, d c_h].
    r ⊙ c_h holds the recurrent bias b[1]'s candidate block inside the reset, so it cannot be folded
    into b[0] (the z and r blocks could be).
    """

    GATES, BIAS_ROWS = 3, 2

    def _output(self):
        x, u = self._time_major_input(), self.units
        W, U, b = self.params["W"], self.params["U"], self.params["b"]
        xw = x @ W + b[0]  # every step's input part: (T, N, 3u)
        h = self._states(x.shape[0], x.shape[1], x.dtype)
        self.gates = np.empty(xw.shape, dtype=x.dtype)  # z, r, n per step
        self.c_h = np.empty(h[1:].shape, dtype=x.dtype)  # h_{t−1} U_h + b[1]_h, before the reset
        with single_blas_thread():  # small per-step matmuls: a second BLAS thread costs more than it saves
            for t in range(x.shape[0]):
                c = h[t] @ U + b[1]
                g = self.gates[t]
                g[:, :2 * u] = sigmoid(xw[t, :, :2 * u] + c[:, :2 * u])
                self.c_h[t] = c[:, 2 * u:]
                np.tanh(xw[t, :, 2 * u:] + g[:, u:2 * u] * self.c_h[t], out=g[:, 2 * u:])
                z, n = g[:, :u], g[:, 2 * u:]
                h[t + 1] = z * h[t] + (1.0 - z) * n
        return self._result()

    def _input_grad(self, output_grad):
        steps, n_samples, u = self.gates.shape[0], self.gates.shape[1], self.units
        z, r, n = self.gates[..., :u], self.gates[..., u:2 * u], self.gates[..., 2 * u:]
        dn = (1.0 - z) * (1.0 - n * n)
        dz = (self.h[:-1] - n) * z * (1.0 - z)
        dr = dn * self.c_h * r * (1.0 - r)
        input_side = np.stack([dz, dr, dn], axis=2)  # (T, N, 3, u), times dh_t
        recurrent_side = np.stack([dz, dr, dn * r], axis=2)
        dh_out, dh = self._incoming(output_grad)
        dh_all = np.empty((steps, n_samples, u), dtype=output_grad.dtype)
        self.dc = np.empty((steps, n_samples, 3, u), dtype=output_grad.dtype)
        U_T = np.ascontiguousarray(self.params["U"].T)
        with single_blas_thread():  # small per-step matmuls: a second BLAS thread costs more than it saves
            for t in reversed(range(steps)):
                if dh_out is not None:
                    dh += dh_out[t]
                dh_all[t] = dh
                np.multiply(dh[:, None, :], recurrent_side[t], out=self.dc[t])
                dh = dh * z[t] + self.dc[t].reshape(n_samples, 3 * u) @ U_T
        self.dc = self.dc.reshape(steps, n_samples, 3 * u)
        self.da = (dh_all[:, :, None, :] * input_side).reshape(steps, n_samples, 3 * u)
        return (self.da @ self.params["W"].T).transpose(1, 0, 2)

    def _param_grads(self, output_grad):
        bias = np.stack([self.da.reshape(-1, 3 * self.units).sum(axis=0),
                         self.dc.reshape(-1, 3 * self.units).sum(axis=0)])
        return {**self._kernel_grads(self.da, self.dc), "b": bias}


class LSTM(Recurrent):
    """x (N, T, F), W (F, 4u), U (u, 4u), b (4u,) → h_T (N, u) or h (N, T, u); gates i, f, g, o along
    the last axis (Keras's and torch's order).

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

    GATES = 4

    def _output(self):
        x, W, U = self._time_major_input(), self.params["W"], self.params["U"]
        steps, n, u = x.shape[0], x.shape[1], self.units
        # σ(z) = (1 + tanh(z/2)) / 2, so one tanh activates all four gates: halve the σ-gates' columns of
        # W, U and b once, then a ← tanh(a)·m + k with m = k = ½ on the σ-gates (m = 1, k = 0 on g)
        half = np.full(4 * u, 0.5, dtype=x.dtype)
        half[2 * u:3 * u] = 1.0
        shift = 1.0 - half
        xw = (x @ (W * half)) + self.params["b"] * half  # every step's input part: (T, N, 4u)
        U_half = U * half
        self.gates = np.empty((steps, n, 4 * u), dtype=x.dtype)  # activated i, f, g, o
        self.c = np.zeros((steps + 1, n, u), dtype=x.dtype)  # c[t + 1] = c_t; c[0] = c₀ = 0
        h = self._states(steps, n, x.dtype)
        self.tanh_c = np.empty((steps, n, u), dtype=x.dtype)
        with single_blas_thread():  # small per-step matmuls: a second BLAS thread costs more than it saves
            for t in range(steps):
                a = self.gates[t]
                np.matmul(h[t], U_half, out=a)
                a += xw[t]
                np.tanh(a, out=a)
                a *= half
                a += shift
                np.multiply(a[:, u:2 * u], self.c[t], out=self.c[t + 1])  # f ⊙ c_{t−1}
                self.c[t + 1] += a[:, :u] * a[:, 2 * u:3 * u]  # + i ⊙ g
                np.tanh(self.c[t + 1], out=self.tanh_c[t])
                np.multiply(a[:, 3 * u:], self.tanh_c[t], out=h[t + 1])  # o ⊙ tanh c_t
        return self._result()

    def _input_grad(self, output_grad):
        steps, n, u = self.gates.shape[0], self.gates.shape[1], self.units
        a = self.gates
        i, f, g, o = a[..., :u], a[..., u:2 * u], a[..., 2 * u:3 * u], a[..., 3 * u:]
        # every factor that does not depend on the incoming gradient, for all steps at once:
        # dz = [dc, dc, dc, dh] ⊙ [g, c_{t−1}, i, tanh c_t] ⊙ [σ', σ', tanh', σ'] and dc gets dh ⊙ o ⊙ tanh'(c_t)
        local = np.concatenate([g * i * (1.0 - i), self.c[:-1] * f * (1.0 - f), i * (1.0 - g * g),
                                self.tanh_c * o * (1.0 - o)], axis=2).reshape(steps, n, 4, u)
        dc_from_h = o * (1.0 - self.tanh_c * self.tanh_c)
        dh_out, dh = self._incoming(output_grad)
        self.dz = np.empty((steps, n, 4, u), dtype=output_grad.dtype)
        dc = np.zeros((n, u), dtype=output_grad.dtype)
        U_T = np.ascontiguousarray(self.params["U"].T)
        with single_blas_thread():  # small per-step matmuls: a second BLAS thread costs more than it saves
            for t in reversed(range(steps)):
                if dh_out is not None:
                    dh += dh_out[t]
                dc += dh * dc_from_h[t]
                np.multiply(dc[:, None, :], local[t, :, :3], out=self.dz[t, :, :3])
                np.multiply(dh, local[t, :, 3], out=self.dz[t, :, 3])
                dc *= f[t]
                dh = self.dz[t].reshape(n, 4 * u) @ U_T
        self.dz = self.dz.reshape(steps, n, 4 * u)
        return (self.dz @ self.params["W"].T).transpose(1, 0, 2)

    def _param_grads(self, output_grad):
        return {**self._kernel_grads(self.dz, self.dz), "b": self.dz.reshape(-1, 4 * self.units).sum(axis=0)}


class RNNLayer(Layer):
    """A :class:`SimpleRNN` as a layer: parameters ``<name>.W``, ``<name>.U``, ``<name>.b``."""

    def __init__(self, name: str, W: np.ndarray, U: np.ndarray, b: np.ndarray, return_sequences: bool = False):
        super().__init__(name, [SimpleRNN(W, U, b, return_sequences)])


class GRULayer(Layer):
    """A :class:`GRU` as a layer: parameters ``<name>.W``, ``<name>.U``, ``<name>.b`` (2, 3u)."""

    def __init__(self, name: str, W: np.ndarray, U: np.ndarray, b: np.ndarray, return_sequences: bool = False):
        super().__init__(name, [GRU(W, U, b, return_sequences)])


class LSTMLayer(Layer):
    """An :class:`LSTM` as a layer: parameters ``<name>.W``, ``<name>.U``, ``<name>.b``."""

    def __init__(self, name: str, W: np.ndarray, U: np.ndarray, b: np.ndarray, return_sequences: bool = False):
        super().__init__(name, [LSTM(W, U, b, return_sequences)])
