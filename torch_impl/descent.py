"""Gradient descent on a curve in PyTorch: minimise f(x) = x²·sin x, the derivative by autograd.

Sections, as in scratch/descent.py and keras_impl/descent.py: data → model → loss → optimizer → training.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from torch_impl import training

__all__ = ["build", "f", "optimizer", "descend"]


# ---- data: none; the curve is the problem and x₀ the start (triptych/studies/descent.py)
# ---- model: one parameter x, an nn.Parameter of shape (1,) in float64, starting at x₀
def build(x0: float) -> nn.Parameter:
    return nn.Parameter(torch.tensor([x0], dtype=torch.float64))


# ---- loss: f(x) = x²·sin x; f(x).backward() leaves f'(x) in x.grad
def f(x: torch.Tensor) -> torch.Tensor:
    return x ** 2 * torch.sin(x)


# ---- optimizer: torch.optim.SGD (momentum), RMSprop or Adam over [x], whichever the study's plan names (the
#      study compares them all, so the shared factory picks: training.make_optimizer)
def optimizer(x: nn.Parameter, plan) -> torch.optim.Optimizer:
    return training.make_optimizer([x], plan)


# ---- training: zero_grad → f(x).backward() → step, ``steps`` times; returns the path x₀, …, x_steps
#      (steps + 1,)
def descend(x0: float, steps: int, plan) -> np.ndarray:
    x = build(x0)
    opt = optimizer(x, plan)
    path = [x.item()]
    for _ in range(steps):
        opt.zero_grad()
        f(x).sum().backward()
        opt.step()
        path.append(x.item())
    return np.array(path)
