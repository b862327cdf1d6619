"""The tuned recurrent kernels: the simple tanh RNN, the GRU and the LSTM of :mod:`scratch.recurrent`, the
same numbers (parity_tests/test_scratch_kernels.py) computed in fewer and cheaper passes.

All three read x (N, T, F) from h₀ = 0 and return the last state h_T (N, u), or every state
(N, T, u) with ``return_sequences``.  Where the reference cell works one time step at a time, forward and
backward, these keep only what must be sequential inside the time loops:
- the input part x_t W + b of every step is one matmul for the whole sequence, and the kernel gradients
  dW, dU (and db) are one matmul (one sum) each over all steps;
- each step then needs one matmul, h_{t−1} U, forward and one, dz Uᵀ, backward; the whole layer, forward and
  backward, runs on NumPy's BLAS limited to one thread (:func:`scratch.fast.ops.single_blas_thread`): those
  matmuls are too small to share, and the whole-sequence ones, (T·N, F)·(F, k·u), save a fraction of a
  millisecond on a second thread where it is free and cost several where the cores are busy (measured:
  the LSTM's forward pass 3.5 ms CPU on one thread, 9.8 ms on two beside other jobs);
- the element-wise work of a step writes into arrays allocated once per pass (``out=``), the factors of
  the backward pass that do not depend on the incoming gradient are computed for all steps at once, and
  the GRU's and LSTM's sigmoid gates go through the one tanh that activates the candidate,
  σ(v) = (1 + tanh(v/2)) / 2, on columns of W, U and b halved once.
"""
from __future__ import annotations

import numpy as np

from scratch import recurrent as reference_recurrent
from scratch.layers import Layer
from scratch.fast.ops import single_blas_thread
from scratch.ops import ParamOperation


class Recurrent(ParamOperation):
    """What the three cells share: weight and input checks, the time-major layout of the states,
    the output (last state or the sequence) and the backward pass around the cell's own BPTT.

    Subclasses set ``GATES`` (k, gate blocks in the kernels) and ``BIAS_ROWS`` (1: b (k·u,);
    2: b (2, k·u), an input and a recurrent bias), and implement ``_output`` and ``_bptt``, which
    leaves the time-major (T, N, k·u) gradients of the pre-activations' input part in ``self.da``
    and of their recurrent part in ``self.dc``; the gradients follow from those."""

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

    def _input_part(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """x_t W + b for every step at once, time-major (T, N, k·u); keeps the input as time-major rows
        (T·N, F), so that every step reads and writes contiguous (N, ·) blocks."""
        x, f = self.input, self.params["W"].shape[0]
        if x.ndim != 3 or x.shape[2] != f:
            raise ValueError(f"{type(self).__name__} expects input (N, T, {f}), got {x.shape}")
        self.x_rows = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(-1, f)
        part = np.matmul(self.x_rows, W).reshape(x.shape[1], x.shape[0], W.shape[1])
        part += b
        return part

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

    def forward(self, x: np.ndarray) -> np.ndarray:
        with single_blas_thread():
            return super().forward(x)

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """BPTT first: the input and the parameter gradients both follow from its da and dc."""
        with single_blas_thread():
            self._bptt(output_grad)
            return super().backward(output_grad, input_grad)

    def _bptt(self, output_grad: np.ndarray) -> None:
        raise NotImplementedError

    def _input_grad(self, output_grad):
        """dx_t = da_t Wᵀ."""
        steps, n = self.h.shape[0] - 1, self.h.shape[1]
        return (self.da.reshape(steps * n, -1) @ self.params["W"].T).reshape(steps, n, -1).transpose(1, 0, 2)

    def _param_grads(self, output_grad):
        """dW = Σ_t x_tᵀ da_t, dU = Σ_t h_{t−1}ᵀ dc_t, db = Σ_t Σ_n da_t (and dc_t for a recurrent bias)."""
        da, dc = self.da.reshape(-1, self.da.shape[-1]), self.dc.reshape(-1, self.dc.shape[-1])
        bias = da.sum(axis=0) if self.BIAS_ROWS == 1 else np.stack([da.sum(axis=0), dc.sum(axis=0)])
        return {"W": self.x_rows.T @ da, "U": self.h[:-1].reshape(-1, self.units).T @ dc, "b": bias}


class SimpleRNN(Recurrent):
    """x (N, T, F), W (F, u), U (u, u), b (u,) → h_T (N, u) or h (N, T, u) (``return_sequences``).

        h_t = tanh(x_t W + h_{t−1} U + b)
    Backward, t = T..1, with dh_t (from the output and from step t + 1):
        dz_t = dh_t ⊙ (1 − h_t²);  dh_{t−1} = dz_t Uᵀ
    and dW = Σ_t x_tᵀ dz_t,  dU = Σ_t h_{t−1}ᵀ dz_t,  db = Σ_t Σ_n dz_t,  dx_t = dz_t Wᵀ.
    """

    def _output(self):
        xw = self._input_part(self.params["W"], self.params["b"])  # every step's input part: (T, N, u)
        h = self._states(xw.shape[0], xw.shape[1], xw.dtype)
        for t in range(xw.shape[0]):
            np.matmul(h[t], self.params["U"], out=h[t + 1])
            h[t + 1] += xw[t]
            np.tanh(h[t + 1], out=h[t + 1])
        return self._result()

    def _bptt(self, output_grad):
        dh_out, dh = self._incoming(output_grad)
        local = self.h[1:] * self.h[1:]
        np.subtract(1.0, local, out=local)  # tanh' at every step
        self.da = self.dc = np.empty_like(local)
        U_T = np.ascontiguousarray(self.params["U"].T)
        for t in reversed(range(local.shape[0])):
            if dh_out is not None:
                dh += dh_out[t]
            np.multiply(dh, local[t], out=self.da[t])
            np.matmul(self.da[t], U_T, out=dh)


class GRU(Recurrent):
    """x (N, T, F), W (F, 3u), U (u, 3u), b (2, 3u) → h_T (N, u) or h (N, T, u); gate blocks z, r, h
    (update, reset, candidate: Keras's order); b[0] is the input bias, b[1] the recurrent bias.
    The reset gate acts after the recurrent matmul (torch's GRU, Keras's ``reset_after=True``):

        [a_z, a_r, a_h] = x_t W + b[0];   [c_z, c_r, c_h] = h_{t−1} U + b[1]
        z = σ(a_z + c_z);  r = σ(a_r + c_r);  n = tanh(a_h + r ⊙ c_h)
        h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n  = n + z ⊙ (h_{t−1} − n)
    Backward, t = T..1, with dh_t (from the output and from step t + 1):
        dn = dh_t ⊙ (1 − z) ⊙ (1 − n²)                       (d a_h)
        d a_z = d c_z = dh_t ⊙ (h_{t−1} − n) ⊙ z(1 − z)
        d a_r = d c_r = dn ⊙ c_h ⊙ r(1 − r);   d c_h = dn ⊙ r
        dh_{t−1} = dh_t ⊙ z + [d c_z, d c_r, d c_h] Uᵀ
    The factors after dh_t are computed for all steps at once; dW, dU, db and dx then follow from the
    input-side gradients [d a_z, d a_r, dn] and the recurrent-side ones [d c_z, d c_r, d c_h].
    r ⊙ c_h holds the recurrent bias b[1]'s candidate block inside the reset, so it cannot be folded
    into b[0] (the z and r blocks could be).  σ(v) = (1 + tanh(v/2)) / 2: the z and r columns of W, U
    and both biases are halved once, and one tanh then activates both gates.
    """

    GATES, BIAS_ROWS = 3, 2

    def _output(self):
        u = self.units
        W, U, b = self.params["W"], self.params["U"], self.params["b"]
        half = np.ones(3 * u, dtype=W.dtype)
        half[:2 * u] = 0.5
        xw = self._input_part(W * half, b[0] * half)  # every step's input part: (T, N, 3u)
        U_half, b1_half = U * half, b[1] * half
        h = self._states(xw.shape[0], xw.shape[1], xw.dtype)
        self.gates = np.empty(xw.shape, dtype=xw.dtype)  # z, r, n per step
        self.c = np.empty(xw.shape, dtype=xw.dtype)  # h_{t−1} U + b[1] (z, r halved); c_h before the reset
        for t in range(xw.shape[0]):
            c, g = self.c[t], self.gates[t]
            np.matmul(h[t], U_half, out=c)
            c += b1_half
            zr = np.add(xw[t, :, :2 * u], c[:, :2 * u], out=g[:, :2 * u])
            np.tanh(zr, out=zr)
            zr *= 0.5
            zr += 0.5
            n = np.multiply(g[:, u:2 * u], c[:, 2 * u:], out=g[:, 2 * u:])  # r ⊙ c_h
            n += xw[t, :, 2 * u:]
            np.tanh(n, out=n)
            np.subtract(h[t], n, out=h[t + 1])
            h[t + 1] *= g[:, :u]
            h[t + 1] += n
        return self._result()

    def _bptt(self, output_grad):
        steps, n_samples, u = self.gates.shape[0], self.gates.shape[1], self.units
        z, r, n = self.gates[..., :u], self.gates[..., u:2 * u], self.gates[..., 2 * u:]
        dn = (1.0 - z) * (1.0 - n * n)
        dz = (self.h[:-1] - n) * z * (1.0 - z)
        dr = dn * self.c[..., 2 * u:] * r * (1.0 - r)
        input_side = np.stack([dz, dr, dn], axis=2)  # (T, N, 3, u), times dh_t
        recurrent_side = np.stack([dz, dr, dn * r], axis=2)
        dh_out, dh = self._incoming(output_grad)
        dh_all = np.empty((steps, n_samples, u), dtype=output_grad.dtype)
        self.dc = np.empty((steps, n_samples, 3, u), dtype=output_grad.dtype)
        U_T = np.ascontiguousarray(self.params["U"].T)
        through = np.empty((n_samples, u), dtype=output_grad.dtype)
        for t in reversed(range(steps)):
            if dh_out is not None:
                dh += dh_out[t]
            dh_all[t] = dh
            np.multiply(dh[:, None, :], recurrent_side[t], out=self.dc[t])
            np.multiply(dh, z[t], out=through)
            np.matmul(self.dc[t].reshape(n_samples, 3 * u), U_T, out=dh)
            dh += through
        self.da = np.multiply(dh_all[:, :, None, :], input_side, out=input_side).reshape(steps, n_samples, 3 * u)
        self.dc = self.dc.reshape(steps, n_samples, 3 * u)


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

    Computed transposed, one column per sample: hᵀ, cᵀ (u, N), zᵀ = Wᵀ x_tᵀ + Uᵀ h_{t−1}ᵀ + b (4u, N), and
    dh_{t−1}ᵀ = U dzᵀ.  Then each gate is a contiguous (u, N) block of zᵀ, so every element-wise step of the
    time loops runs on contiguous memory (in the (N, 4u) layout each gate is a strided slice: measured about
    4× slower per call at N = 128, u = 64), and both loop matmuls stay single products.  Inside, the gate
    blocks are kept in the order i, f, o, g (σ's three side by side; the columns of W, U and b permuted once,
    the gradients permuted back), and σ goes through the one tanh: σ(v) = (1 + tanh(v/2)) / 2 on halved
    columns, then a ← a/2 + 1/2 on the first 3u rows.  The backward factors (σ', the partners) are computed
    inside the loop, where the step's blocks are in cache.
    """

    GATES = 4

    def _order(self) -> np.ndarray:
        """The columns of the canonical i, f, g, o blocks in the inner order i, f, o, g."""
        u = self.units
        return np.concatenate([np.arange(k * u, (k + 1) * u) for k in (0, 1, 3, 2)])

    def _output(self):
        W, U, b, u = self.params["W"], self.params["U"], self.params["b"], self.units
        x = self.input
        if x.ndim != 3 or x.shape[2] != W.shape[0]:
            raise ValueError(f"LSTM expects input (N, T, {W.shape[0]}), got {x.shape}")
        n, steps, _ = x.shape
        order = self._order()
        half = np.ones(4 * u, dtype=W.dtype)
        half[:3 * u] = 0.5
        self.x_steps = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, F)
        self.gates = np.matmul((W[:, order] * half).T, self.x_steps.transpose(0, 2, 1))  # zᵀ's input part (T, 4u, N)
        self.gates += (b[order] * half)[:, None]
        U_T = np.ascontiguousarray((U[:, order] * half).T)  # (4u, u)
        self.h = np.zeros((steps + 1, u, n), dtype=W.dtype)  # h[t] = h_tᵀ, h[0] = h₀ = 0
        self.c = np.zeros((steps + 1, u, n), dtype=W.dtype)
        self.tanh_c = np.empty((steps, u, n), dtype=W.dtype)
        recurrent, product = np.empty((4 * u, n), dtype=W.dtype), np.empty((u, n), dtype=W.dtype)
        for t in range(steps):
            a = self.gates[t]
            a += np.matmul(U_T, self.h[t], out=recurrent)
            np.tanh(a, out=a)
            a[:3 * u] *= 0.5
            a[:3 * u] += 0.5
            i, f, o, g = a[:u], a[u:2 * u], a[2 * u:3 * u], a[3 * u:]
            np.multiply(f, self.c[t], out=self.c[t + 1])
            self.c[t + 1] += np.multiply(i, g, out=product)
            np.tanh(self.c[t + 1], out=self.tanh_c[t])
            np.multiply(o, self.tanh_c[t], out=self.h[t + 1])
        return self.h[1:].transpose(2, 0, 1).copy() if self.return_sequences else self.h[-1].T.copy()

    def _bptt(self, output_grad):
        steps, u, n = self.tanh_c.shape
        U = np.ascontiguousarray(self.params["U"][:, self._order()])  # (u, 4u), the inner order
        if self.return_sequences:
            dh_out, dh = np.ascontiguousarray(output_grad.transpose(1, 2, 0)), np.zeros((u, n), output_grad.dtype)
        else:
            dh_out, dh = None, np.ascontiguousarray(output_grad.T)
        self.dz = np.empty((steps, 4 * u, n), dtype=output_grad.dtype)  # dzᵀ per step, the inner order
        dc, product = np.zeros((u, n), dtype=output_grad.dtype), np.empty((u, n), dtype=output_grad.dtype)
        for t in reversed(range(steps)):
            if dh_out is not None:
                dh += dh_out[t]
            a, z, tanh_c = self.gates[t], self.dz[t], self.tanh_c[t]
            i, f, o, g = a[:u], a[u:2 * u], a[2 * u:3 * u], a[3 * u:]
            np.multiply(tanh_c, tanh_c, out=product)  # dc += dh ⊙ o ⊙ (1 − tanh² c)
            np.subtract(1.0, product, out=product)
            product *= o
            product *= dh
            dc += product
            np.subtract(1.0, a[:3 * u], out=z[:3 * u])  # σ' = σ(1 − σ) on i, f, o
            z[:3 * u] *= a[:3 * u]
            z[:u] *= g
            z[:u] *= dc
            z[u:2 * u] *= self.c[t]
            z[u:2 * u] *= dc
            z[2 * u:3 * u] *= tanh_c
            z[2 * u:3 * u] *= dh
            zg = np.multiply(g, g, out=z[3 * u:])  # dg ⊙ (1 − g²) = dc ⊙ i ⊙ (1 − g²)
            np.subtract(1.0, zg, out=zg)
            zg *= i
            zg *= dc
            dc *= f
            np.matmul(U, z, out=dh)

    def _input_grad(self, output_grad):
        """dx_tᵀ = W dz_tᵀ for every step (one batched product) → (N, T, F)."""
        return np.matmul(self.params["W"][:, self._order()], self.dz).transpose(2, 0, 1)

    def _param_grads(self, output_grad):
        """dWᵀ = Σ_t dz_tᵀ x_t, dUᵀ = Σ_t dz_tᵀ h_{t−1}, db = Σ_t Σ_n dz_t; back in the canonical order."""
        back = np.argsort(self._order())
        dW = np.matmul(self.dz, self.x_steps).sum(axis=0)  # (4u, F)
        dU = np.matmul(self.dz, self.h[:-1].transpose(0, 2, 1)).sum(axis=0)  # (4u, u)
        db = self.dz.sum(axis=2).sum(axis=0)
        return {"W": dW[back].T.copy(), "U": dU[back].T.copy(), "b": db[back]}


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


class BidirectionalLSTMLayer(reference_recurrent.BidirectionalLSTMLayer):
    """The reference :class:`~scratch.recurrent.Bidirectional` wrapper (reversal, concatenation, dx summed) over
    two tuned :class:`LSTM` cells."""

    CELL = LSTM
