"""Recurrent layers: the simple tanh RNN, the GRU and the LSTM, step by step, with backpropagation through
time written as its equations.

Each cell is three pieces: its forward for one time step (:meth:`Recurrent.step`), its backward for one
time step (:meth:`Recurrent.step_backward`), and the loop over time that runs them (:class:`Recurrent`),
vectorised over the batch.  All three read x (N, T, F) from h₀ = 0 (and c₀ = 0) and return the last state
h_T (N, u), or every state (N, T, u) with ``return_sequences`` (so that layers can be stacked).  Kernels
hold their gate blocks side by side along the last axis: W (F, k·u), U (u, k·u).

The tuned kernels (whole-sequence matmuls, one BLAS thread, buffers, σ through tanh) are
``scratch/fast/recurrent.py``.
"""
from __future__ import annotations

import numpy as np

from scratch.layers import Layer
from scratch.ops import ParamOperation, sigmoid


class Recurrent(ParamOperation):
    """The loop over time the three cells share, around the cell's own step forward and backward.

    Forward, for t = 1..T:  state_t = step(x_t, state_{t−1}), h_t its first member.
    Backward, for t = T..1, with dh_t = dL/dh_t from the output (every step with ``return_sequences``,
    else step T only) plus what step t + 1 sent back:  (dx_t, d state_{t−1}, grads_t) = step_backward(...),
    and dL/dθ = Σ_t grads_t for θ = W, U, b.

    Subclasses set ``GATES`` (k, gate blocks in the kernels) and ``BIAS_ROWS`` (1: b (k·u,);
    2: b (2, k·u), an input and a recurrent bias) and write :meth:`step` and :meth:`step_backward`."""

    GATES = 1
    BIAS_ROWS = 1
    STATES = 1  # arrays in the state: (h,), or (h, c) for the LSTM

    def __init__(self, W: np.ndarray, U: np.ndarray, b: np.ndarray, return_sequences: bool = False):
        units, k = U.shape[0], self.GATES
        bias = (k * units,) if self.BIAS_ROWS == 1 else (self.BIAS_ROWS, k * units)
        if W.ndim != 2 or W.shape[1] != k * units or U.shape != (units, k * units) or b.shape != bias:
            raise ValueError(f"{type(self).__name__} weights must be W (F, {k}u), U (u, {k}u), b {bias} "
                             f"(u = {units}); got {W.shape}, {U.shape}, {b.shape}")
        super().__init__(W=W, U=U, b=b)
        self.units, self.return_sequences = units, return_sequences

    def step(self, x_t: np.ndarray, state: tuple) -> tuple[tuple, tuple]:
        """(state_t, cache) from x_t (N, F) and state_{t−1}."""
        raise NotImplementedError

    def step_backward(self, d_state: tuple, cache: tuple) -> tuple[np.ndarray, tuple, dict]:
        """(dx_t, d state_{t−1}, {W, U, b: this step's share}) from d state_t and the step's cache."""
        raise NotImplementedError

    def _output(self):
        x, f = self.input, self.params["W"].shape[0]
        if x.ndim != 3 or x.shape[2] != f:
            raise ValueError(f"{type(self).__name__} expects input (N, T, {f}), got {x.shape}")
        state = (np.zeros((len(x), self.units), dtype=self.params["U"].dtype),) * self.STATES
        self.caches, hs = [], []
        for t in range(x.shape[1]):
            state, cache = self.step(x[:, t], state)
            self.caches.append(cache)
            hs.append(state[0])
        return np.stack(hs, axis=1) if self.return_sequences else hs[-1]

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagation through time first: the input and the parameter gradients both come out of it."""
        self._bptt(output_grad)
        return super().backward(output_grad, input_grad)

    def _bptt(self, output_grad: np.ndarray) -> None:
        steps = len(self.caches)
        d_state = (np.zeros((len(self.input), self.units), dtype=output_grad.dtype),) * self.STATES  # from step T + 1
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        dxs = [None] * steps
        for t in reversed(range(steps)):
            dh = d_state[0]
            if self.return_sequences:
                dh = dh + output_grad[:, t]
            elif t == steps - 1:
                dh = dh + output_grad
            dxs[t], d_state, grads = self.step_backward((dh, *d_state[1:]), self.caches[t])
            for key, grad in grads.items():
                self.grads[key] += grad
        self.dx = np.stack(dxs, axis=1)

    def _input_grad(self, output_grad):
        return self.dx

    def _param_grads(self, output_grad):
        return self.grads


class SimpleRNN(Recurrent):
    """x (N, T, F), W (F, u), U (u, u), b (u,) → h_T (N, u) or h (N, T, u) (``return_sequences``).

    Step t:           h_t = tanh(x_t W + h_{t−1} U + b)
    Step t backward:  dz = dh_t ⊙ (1 − h_t²);  dx_t = dz Wᵀ;  dh_{t−1} = dz Uᵀ;
                      dW += x_tᵀ dz,  dU += h_{t−1}ᵀ dz,  db += Σ_n dz.
    """

    def step(self, x_t, state):
        (h_prev,) = state
        W, U, b = self.params["W"], self.params["U"], self.params["b"]
        h = np.tanh(x_t @ W + h_prev @ U + b)
        return (h,), (x_t, h_prev, h)

    def step_backward(self, d_state, cache):
        (dh,), (x_t, h_prev, h) = d_state, cache
        dz = dh * (1.0 - h * h)
        grads = {"W": x_t.T @ dz, "U": h_prev.T @ dz, "b": dz.sum(axis=0)}
        return dz @ self.params["W"].T, (dz @ self.params["U"].T,), grads


class GRU(Recurrent):
    """x (N, T, F), W (F, 3u), U (u, 3u), b (2, 3u) → h_T (N, u) or h (N, T, u); gate blocks z, r, h
    (update, reset, candidate: Keras's order); b[0] is the input bias, b[1] the recurrent bias.
    The reset gate acts after the recurrent matmul (torch's GRU, Keras's ``reset_after=True``).

    Step t:
        [a_z, a_r, a_h] = x_t W + b[0];   [c_z, c_r, c_h] = h_{t−1} U + b[1]
        z = σ(a_z + c_z);  r = σ(a_r + c_r);  n = tanh(a_h + r ⊙ c_h)
        h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n
    Step t backward, from dh_t:
        d a_h = dh_t ⊙ (1 − z) ⊙ (1 − n²)
        d a_z = d c_z = dh_t ⊙ (h_{t−1} − n) ⊙ z(1 − z)
        d a_r = d c_r = d a_h ⊙ c_h ⊙ r(1 − r);   d c_h = d a_h ⊙ r
        dx_t = da Wᵀ;  dh_{t−1} = dh_t ⊙ z + dc Uᵀ
        dW += x_tᵀ da,  dU += h_{t−1}ᵀ dc,  db[0] += Σ_n da,  db[1] += Σ_n dc
    with da = [d a_z, d a_r, d a_h] and dc = [d c_z, d c_r, d c_h].  r ⊙ c_h holds the recurrent bias
    b[1]'s candidate block inside the reset, so it cannot be folded into b[0] (the z and r blocks could be).
    """

    GATES, BIAS_ROWS = 3, 2

    def step(self, x_t, state):
        (h_prev,) = state
        W, U, b = self.params["W"], self.params["U"], self.params["b"]
        a_z, a_r, a_h = np.split(x_t @ W + b[0], 3, axis=1)
        c_z, c_r, c_h = np.split(h_prev @ U + b[1], 3, axis=1)
        z, r = sigmoid(a_z + c_z), sigmoid(a_r + c_r)
        n = np.tanh(a_h + r * c_h)
        h = z * h_prev + (1.0 - z) * n
        return (h,), (x_t, h_prev, z, r, n, c_h)

    def step_backward(self, d_state, cache):
        (dh,), (x_t, h_prev, z, r, n, c_h) = d_state, cache
        da_h = dh * (1.0 - z) * (1.0 - n * n)
        da_z = dh * (h_prev - n) * z * (1.0 - z)
        da_r = da_h * c_h * r * (1.0 - r)
        da = np.concatenate([da_z, da_r, da_h], axis=1)
        dc = np.concatenate([da_z, da_r, da_h * r], axis=1)
        grads = {"W": x_t.T @ da, "U": h_prev.T @ dc, "b": np.stack([da.sum(axis=0), dc.sum(axis=0)])}
        return da @ self.params["W"].T, (dh * z + dc @ self.params["U"].T,), grads


class LSTM(Recurrent):
    """x (N, T, F), W (F, 4u), U (u, 4u), b (4u,) → h_T (N, u) or h (N, T, u); gates i, f, g, o along
    the last axis (Keras's and torch's order).

    Step t, from (h_{t−1}, c_{t−1}):
        [z_i, z_f, z_g, z_o] = x_t W + h_{t−1} U + b
        i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh z_g
        c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh c_t
    Step t backward, from dh_t and dc_t (what step t + 1 sent back):
        do = dh_t ⊙ tanh c_t;  dc = dc_t + dh_t ⊙ o ⊙ (1 − tanh² c_t)
        di = dc ⊙ g;  df = dc ⊙ c_{t−1};  dg = dc ⊙ i;  dc_{t−1} = dc ⊙ f
        dz = [di ⊙ i(1 − i), df ⊙ f(1 − f), dg ⊙ (1 − g²), do ⊙ o(1 − o)]
        dx_t = dz Wᵀ;  dh_{t−1} = dz Uᵀ;  dW += x_tᵀ dz,  dU += h_{t−1}ᵀ dz,  db += Σ_n dz.
    """

    GATES, STATES = 4, 2

    def step(self, x_t, state):
        h_prev, c_prev = state
        W, U, b = self.params["W"], self.params["U"], self.params["b"]
        z_i, z_f, z_g, z_o = np.split(x_t @ W + h_prev @ U + b, 4, axis=1)
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        return (h, c), (x_t, h_prev, c_prev, i, f, g, o, c)

    def step_backward(self, d_state, cache):
        (dh, dc_next), (x_t, h_prev, c_prev, i, f, g, o, c) = d_state, cache
        tanh_c = np.tanh(c)
        do = dh * tanh_c
        dc = dc_next + dh * o * (1.0 - tanh_c * tanh_c)
        di, df, dg = dc * g, dc * c_prev, dc * i
        dz = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g), do * o * (1.0 - o)],
                            axis=1)
        grads = {"W": x_t.T @ dz, "U": h_prev.T @ dz, "b": dz.sum(axis=0)}
        return dz @ self.params["W"].T, (dz @ self.params["U"].T, dc * f), grads


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


class Bidirectional(ParamOperation):
    """Two recurrent cells over one sequence, x (N, T, F): ``forward`` reads x_1..x_T, ``backward`` reads
    x_T..x_1 (the time-reversed sequence x̃_t = x_{T+1−t}), each with weights of its own.

    return_sequences:  y_t = [h→_t, h←_t]  (N, T, 2u), where h←_t is the backward cell's state after it has
                       read x_T..x_t (its own output re-reversed in time, so both halves of y_t belong to step t)
    else:              y = [h→_T, h←_1]  (N, 2u): each direction's final state (the backward one after x_1)
    Backward, from dy = [dy→, dy←]: each cell's own BPTT, the backward cell's on dy← reversed in time, and
        dx = dx→ + reverse_t(dx̃←).
    Parameters ``forward.W``, ``forward.U``, ``forward.b``, ``backward.W``, … (the cells' own arrays)."""

    def __init__(self, forward: Recurrent, backward: Recurrent):
        if forward.return_sequences != backward.return_sequences or forward.units != backward.units:
            raise ValueError("Bidirectional needs two cells of the same units and return_sequences")
        super().__init__(**{f"{side}.{key}": value for side, cell in (("forward", forward), ("backward", backward))
                            for key, value in cell.params.items()})
        self.cells = {"forward": forward, "backward": backward}
        self.units, self.return_sequences = forward.units, forward.return_sequences

    def _output(self):
        x = self.input
        if x.ndim != 3:
            raise ValueError(f"Bidirectional expects input (N, T, F), got {x.shape}")
        h_forward = self.cells["forward"].forward(x)
        h_backward = self.cells["backward"].forward(x[:, ::-1])
        if self.return_sequences:
            h_backward = h_backward[:, ::-1]  # back to the time order of x
        return np.concatenate([h_forward, h_backward], axis=-1)

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Each direction's BPTT first, then the input and parameter gradients follow."""
        d_forward, d_backward = np.split(output_grad, 2, axis=-1)
        if self.return_sequences:
            d_backward = d_backward[:, ::-1]  # into the backward cell's (reversed) time
        self.dx_forward = self.cells["forward"].backward(np.ascontiguousarray(d_forward), input_grad)
        self.dx_backward = self.cells["backward"].backward(np.ascontiguousarray(d_backward), input_grad)
        return super().backward(output_grad, input_grad)

    def _input_grad(self, output_grad):
        return self.dx_forward + self.dx_backward[:, ::-1]

    def _param_grads(self, output_grad):
        return {f"{side}.{key}": grad for side, cell in self.cells.items() for key, grad in cell.param_grads.items()}


class BidirectionalLSTMLayer(Layer):
    """:class:`Bidirectional` over two :class:`LSTM` cells as a layer: parameters ``<name>.forward.W``,
    ``.forward.U``, ``.forward.b``, ``<name>.backward.W``, …; ``forward`` and ``backward`` are (W, U, b)."""

    CELL = LSTM

    def __init__(self, name: str, forward: tuple, backward: tuple, return_sequences: bool = False):
        self.return_sequences = return_sequences
        cells = [self.CELL(*weights, return_sequences=return_sequences) for weights in (forward, backward)]
        super().__init__(name, [Bidirectional(*cells)])

    def directions(self) -> dict[str, tuple]:
        """{"forward" | "backward": (W, U, b)}, the live arrays."""
        cells = self.operations[0].cells
        return {side: (cell.params["W"], cell.params["U"], cell.params["b"]) for side, cell in cells.items()}
