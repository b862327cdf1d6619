"""Optimizers: ``step(params, grads)`` updates the live parameter arrays in place.

The formulas are PyTorch's (the README's conventions table says where Keras differs):
weight decay is L2 added to the gradient, g ← g + λw, before anything else.
"""
from __future__ import annotations

import numpy as np


class Optimizer:
    def __init__(self, lr: float, weight_decay: float = 0.0):
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr, self.weight_decay = lr, weight_decay
        self.state: dict[str, dict] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, param in params.items():
            grad = grads[name] + self.weight_decay * param if self.weight_decay else grads[name]
            self._update(param, grad, self.state.setdefault(name, {}))


class SGD(Optimizer):
    """w ← w − lr·g;  momentum μ: b ← μb + g (b₁ = g), w ← w − lr·b;  Nesterov: w ← w − lr·(g + μb)."""

    def __init__(self, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        if nesterov and not momentum:
            raise ValueError("Nesterov momentum needs a momentum > 0")
        self.momentum, self.nesterov = momentum, nesterov

    def _update(self, param, grad, state):
        if self.momentum:
            buf = state.get("momentum")
            state["momentum"] = buf = grad.copy() if buf is None else self.momentum * buf + grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= self.lr * grad


class Adam(Optimizer):
    """m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,
    w ← w − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)      (Kingma & Ba; torch)."""

    def __init__(self, lr: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _update(self, param, grad, state):
        if not state:
            state.update(t=0, m=np.zeros_like(param), v=np.zeros_like(param))
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m *= self.beta_1
        m += (1.0 - self.beta_1) * grad
        v *= self.beta_2
        v += (1.0 - self.beta_2) * grad * grad
        m_hat = m / (1.0 - self.beta_1**t)
        v_hat = v / (1.0 - self.beta_2**t)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


class RMSprop(Optimizer):
    """v ← ρv + (1 − ρ) g²;  centered: ḡ ← ρḡ + (1 − ρ) g and s = √(v − ḡ²) + ε, else s = √v + ε;
    d = g / s;  w ← w − lr·d, or with momentum μ: b ← μb + d (b₀ = 0), w ← w − lr·b      (torch; ρ is its alpha).

    Keras differs in epsilon's place (√(v + ε), and √(v − ḡ² + ε) centered) and in its momentum buffer,
    which holds lr·d (the same steps at a constant lr); its defaults are ρ 0.9, ε 1e-7."""

    def __init__(self, lr: float = 1e-2, rho: float = 0.99, epsilon: float = 1e-8, momentum: float = 0.0,
                 centered: bool = False):
        super().__init__(lr)
        self.rho, self.epsilon, self.momentum, self.centered = rho, epsilon, momentum, centered

    def _update(self, param, grad, state):
        if not state:
            state.update(v=np.zeros_like(param), mean=np.zeros_like(param) if self.centered else None,
                         momentum=np.zeros_like(param) if self.momentum else None)
        v, mean = state["v"], state["mean"]
        v *= self.rho
        v += (1.0 - self.rho) * grad * grad
        if self.centered:
            mean *= self.rho
            mean += (1.0 - self.rho) * grad
            step = grad / (np.sqrt(v - mean * mean) + self.epsilon)
        else:
            step = grad / (np.sqrt(v) + self.epsilon)
        if self.momentum:
            buf = state["momentum"]
            buf *= self.momentum
            buf += step
            step = buf
        param -= self.lr * step


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def make_optimizer(plan) -> Optimizer:
    """The optimizer a triptych.frameworks.TrainPlan asks for."""
    return OPTIMIZERS[plan.optimizer](plan.lr, **plan.options)
