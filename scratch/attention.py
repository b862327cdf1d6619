"""The transformer's operations, forward and backward written as their equations: a dense layer applied to every
token, the learned position embedding (its gradient a scatter-add), LayerNorm, exact GELU, multi-head
self-attention, the mean over tokens, and the post-norm encoder block that wires them with residuals.

Tokens are x (N, T, d).  Every operation here is vectorised over the batch, the tokens and the heads.  Constants are
Python floats, which keep the tokens' dtype (a NumPy float64 scalar would turn float32 tokens into float64).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf  # exact GELU needs erf, which NumPy lacks

from scratch.layers import Layer
from scratch.ops import BiasAdd, Dropout, Operation, ParamOperation


class TokenWeightMultiply(ParamOperation):
    """y = x W for every token.  x (N, T, in), W (in, out) → y (N, T, out);
    dx = dy Wᵀ,  dW = Σ_{n,t} x_{n,t}ᵀ dy_{n,t}."""

    def __init__(self, W: np.ndarray):
        super().__init__(W=W)

    def _output(self):
        return self.input @ self.params["W"]

    def _input_grad(self, output_grad):
        return output_grad @ self.params["W"].T

    def _param_grads(self, output_grad):
        W = self.params["W"]
        return {"W": self.input.reshape(-1, W.shape[0]).T @ output_grad.reshape(-1, W.shape[1])}


class TokenDense(Layer):
    """y = x W + b on every token: x (N, T, in) → (N, T, out); parameters ``<name>.W``, ``<name>.b``."""

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray):
        super().__init__(name, [TokenWeightMultiply(W), BiasAdd(b)])


class PositionEmbedding(ParamOperation):
    """y_{n,t} = x_{n,t} + E[t]: a lookup of the positions 0…T−1 in the table E (max_len, d), added to the tokens.
    dx = dy;  dE = scatter-add of dy into the rows looked up: dE[p] = Σ_{(n,t): t = p} dy_{n,t}."""

    def __init__(self, E: np.ndarray):
        super().__init__(E=E)

    def _output(self):
        x, E = self.input, self.params["E"]
        if x.ndim != 3 or x.shape[2] != E.shape[1] or x.shape[1] > E.shape[0]:
            raise ValueError(f"PositionEmbedding expects tokens (N, T ≤ {E.shape[0]}, {E.shape[1]}), got {x.shape}")
        self.positions = np.broadcast_to(np.arange(x.shape[1]), x.shape[:2])  # (N, T) indices into E
        return x + E[self.positions]

    def _input_grad(self, output_grad):
        return output_grad

    def _param_grads(self, output_grad):
        dE = np.zeros_like(self.params["E"])
        np.add.at(dE, self.positions, output_grad)
        return {"E": dE}


class LayerNorm(ParamOperation):
    """Over the last axis (d): μ = mean x, σ² = mean (x − μ)² (biased), x̂ = (x − μ) / √(σ² + ε), y = γ x̂ + β.
    Backward, with g = dy ⊙ γ:  dx = (g − mean g − x̂ · mean(g ⊙ x̂)) / √(σ² + ε);
    dγ = Σ dy ⊙ x̂,  dβ = Σ dy over every leading axis."""

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, epsilon: float):
        super().__init__(gamma=gamma, beta=beta)
        self.epsilon = epsilon

    def _output(self):
        x = self.input
        centred = x - x.mean(axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.epsilon)
        self.x_hat = centred * self.inv_std
        return self.x_hat * self.params["gamma"] + self.params["beta"]

    def _input_grad(self, output_grad):
        g = output_grad * self.params["gamma"]
        return (g - g.mean(axis=-1, keepdims=True)
                - self.x_hat * (g * self.x_hat).mean(axis=-1, keepdims=True)) * self.inv_std

    def _param_grads(self, output_grad):
        d = output_grad.shape[-1]
        return {"gamma": (output_grad * self.x_hat).reshape(-1, d).sum(axis=0),
                "beta": output_grad.reshape(-1, d).sum(axis=0)}


class GELU(Operation):
    """Exact GELU: y = x Φ(x), Φ(x) = ½ (1 + erf(x / √2));  dx = dy ⊙ (Φ(x) + x φ(x)), φ(x) = e^{−x²/2} / √(2π).
    (Not the tanh approximation, ≈ 5e-4 away.)"""

    def _output(self):
        self.cdf = 0.5 * (1.0 + erf(self.input / math.sqrt(2.0)))
        return self.input * self.cdf

    def _input_grad(self, output_grad):
        x = self.input
        return output_grad * (self.cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi))


def softmax(s: np.ndarray) -> np.ndarray:
    """Along the last axis, shifted by its maximum."""
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class MultiHeadSelfAttention(ParamOperation):
    """x (N, T, d) → y (N, T, d) with h heads of size k = d / h.  Columns [j·k, (j+1)·k) of W_q, W_k, W_v (d, d) and
    rows of W_o (d, d) belong to head j.  No key bias: softmax is unchanged by adding one number to every score of a
    row, and q·b_k is such a number, so a key bias has no effect (and gets a zero gradient).

        Q = x W_q + b_q,  K = x W_k,  V = x W_v + b_v, each split into heads (N, h, T, k)
        S = Q Kᵀ / √k,  P = softmax(S) over the keys,  A = P V,  y = [A_1 … A_h] W_o + b_o
    Backward, from dy:  dA = dy W_oᵀ (split into heads);  dP = dA Vᵀ;  dV = Pᵀ dA;
        dS = P ⊙ (dP − Σ_keys dP ⊙ P);  dQ = dS K / √k;  dK = dSᵀ Q / √k;
        dW_q = Σ xᵀ dQ, db_q = Σ dQ (dK, dV alike, heads merged back);  dx = dQ W_qᵀ + dK W_kᵀ + dV W_vᵀ.
    ``dropout`` (a :class:`~scratch.ops.Dropout`) acts on P in training, as torch's and Keras's attention dropout."""

    def __init__(self, heads: int, dropout: Dropout, **params: np.ndarray):
        super().__init__(**params)
        d = params["query.W"].shape[0]
        if d % heads:
            raise ValueError(f"MultiHeadSelfAttention: width {d} is not a multiple of {heads} heads")
        self.heads, self.dropout = heads, dropout

    def _split(self, z):  # (N, T, d) → (N, h, T, k)
        n, t, d = z.shape
        return z.reshape(n, t, self.heads, d // self.heads).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge(z):  # (N, h, T, k) → (N, T, d)
        n, h, t, k = z.shape
        return z.transpose(0, 2, 1, 3).reshape(n, t, h * k)

    def _output(self):
        x, p = self.input, self.params
        self.q = self._split(x @ p["query.W"] + p["query.b"])
        self.k = self._split(x @ p["key.W"])
        self.v = self._split(x @ p["value.W"] + p["value.b"])
        self.scale = 1.0 / math.sqrt(self.q.shape[-1])
        self.p = softmax(self.q @ self.k.transpose(0, 1, 3, 2) * self.scale)
        self.p_dropped = self.dropout.forward(self.p)
        self.a = self._merge(self.p_dropped @ self.v)
        return self.a @ p["out.W"] + p["out.b"]

    def backward(self, output_grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        p, d = self.params, output_grad.shape[-1]
        rows = lambda z: z.reshape(-1, d)  # noqa: E731  (N, T, d) → (N·T, d)
        dA = self._split(output_grad @ p["out.W"].T)
        dP = self.dropout.backward(dA @ self.v.transpose(0, 1, 3, 2))
        dV = self._merge(self.p_dropped.transpose(0, 1, 3, 2) @ dA)
        dS = self.p * (dP - (dP * self.p).sum(axis=-1, keepdims=True))
        dQ = self._merge(dS @ self.k) * self.scale
        dK = self._merge(dS.transpose(0, 1, 3, 2) @ self.q) * self.scale
        x = rows(self.input)
        self.grads = {"query.W": x.T @ rows(dQ), "query.b": rows(dQ).sum(axis=0), "key.W": x.T @ rows(dK),
                      "value.W": x.T @ rows(dV), "value.b": rows(dV).sum(axis=0),
                      "out.W": rows(self.a).T @ rows(output_grad), "out.b": rows(output_grad).sum(axis=0)}
        self.dx = dQ @ p["query.W"].T + dK @ p["key.W"].T + dV @ p["value.W"].T
        return super().backward(output_grad, input_grad)

    def _input_grad(self, output_grad):
        return self.dx

    def _param_grads(self, output_grad):
        return self.grads


class MeanTokens(Operation):
    """y = (1/T) Σ_t x_t: (N, T, d) → (N, d);  dx_t = dy / T for every t."""

    def _output(self):
        return self.input.mean(axis=1)

    def _input_grad(self, output_grad):
        return np.broadcast_to(output_grad[:, None, :] / self.input.shape[1], self.input.shape).copy()


class EncoderBlock(Layer):
    """The post-norm encoder block (torch's TransformerEncoderLayer with norm_first=False):

        h = LayerNorm₁(x + Dropout(MHSA(x)))
        y = LayerNorm₂(h + Dropout(W₂ Dropout(GELU(W₁ h + b₁)) + b₂))
    Backward: each residual sends the gradient both ways and the two sums meet at the input:
        dh = dz₂ + FF-branch backward(dz₂) with dz₂ = LayerNorm₂ backward(dy);
        dx = dz₁ + attention-branch backward(dz₁) with dz₁ = LayerNorm₁ backward(dh).
    Parameters ``<name>.attention.query.W`` …, ``<name>.norm1.gamma``, ``<name>.ff1.W``, ``<name>.ff2.b``, … ."""

    def __init__(self, name: str, weights: dict, heads: int, dropout: float, epsilon: float,
                 rng: np.random.Generator | None = None):
        drops = [Dropout(dropout, rng) for _ in range(4)]
        self.attention = MultiHeadSelfAttention(heads, drops[0], **{k[len("attention."):]: v for k, v in weights.items()
                                                                    if k.startswith("attention.")})
        self.norm1 = LayerNorm(weights["norm1.gamma"], weights["norm1.beta"], epsilon)
        self.norm2 = LayerNorm(weights["norm2.gamma"], weights["norm2.beta"], epsilon)
        self.ff1 = [TokenWeightMultiply(weights["ff1.W"]), BiasAdd(weights["ff1.b"])]
        self.ff2 = [TokenWeightMultiply(weights["ff2.W"]), BiasAdd(weights["ff2.b"])]
        self.attention_drop, self.ff_drop, self.out_drop = drops[1:]
        self.attention_branch = [self.attention, self.attention_drop]
        self.ff_branch = [*self.ff1, GELU(), self.ff_drop, *self.ff2, self.out_drop]
        super().__init__(name, [drops[0], *self.attention_branch, self.norm1, *self.ff_branch, self.norm2])
        self.named = {"attention": [self.attention], "norm1": [self.norm1], "ff1": self.ff1, "ff2": self.ff2,
                      "norm2": [self.norm2]}

    @staticmethod
    def _run(ops, x):
        for op in ops:
            x = op.forward(x)
        return x

    @staticmethod
    def _back(ops, grad):
        for op in reversed(ops):
            grad = op.backward(grad)
        return grad

    def forward(self, x):
        h = self.norm1.forward(x + self._run(self.attention_branch, x))
        return self.norm2.forward(h + self._run(self.ff_branch, h))

    def backward(self, output_grad, input_grad=True):
        dz2 = self.norm2.backward(output_grad)
        dh = dz2 + self._back(self.ff_branch, dz2)
        dz1 = self.norm1.backward(dh)
        d_branch = self._back(self.attention_branch, dz1)  # the attention's parameter gradients need its way back
        return dz1 + d_branch if input_grad else None

    @property
    def params(self):
        return {f"{group}.{key}": value for group, ops in self.named.items() for op in ops
                for key, value in op.params.items()}

    @property
    def param_grads(self):
        return {f"{group}.{key}": value for group, ops in self.named.items() for op in ops
                for key, value in op.param_grads.items()}
