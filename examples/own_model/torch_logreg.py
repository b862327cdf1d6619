"""Logistic regression in PyTorch: p = sigmoid(Linear(x)), BCELoss, torch.optim.SGD."""
from __future__ import annotations

import torch
from torch import nn

from torch_impl import training


# ---- data: X (N, 30) standardised, y (N, 1) in {0, 1} (the declaration's loader)
# ---- model
class LogisticRegression(nn.Module):
    """x (N, F) → Linear(F, 1) → sigmoid → p (N, 1)."""

    def __init__(self, in_features: int):
        super().__init__()
        self.logit = nn.Linear(in_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(x))


def build(config: dict) -> LogisticRegression:
    return LogisticRegression(config["in_features"])


# ---- loss: binary cross-entropy on probabilities
def loss() -> nn.Module:
    return nn.BCELoss()


# ---- optimizer: torch.optim.SGD (training.make_optimizer)
# ---- training: the explicit loop of torch_impl/training.py
def train(model: LogisticRegression, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: Linear.weight (1, F) is the canonical logit.W (F, 1) transposed
def to_canonical(tensors: dict) -> dict:
    return {"logit.W": tensors["logit.weight"].T, "logit.b": tensors["logit.bias"]}


def from_canonical(weights: dict) -> dict:
    return {"logit.weight": weights["logit.W"].T.contiguous(), "logit.bias": weights["logit.b"]}
