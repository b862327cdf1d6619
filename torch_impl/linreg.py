"""Linear regression in PyTorch: y = X·w + b, mean squared error, SGD (with l2 = λ: weight decay λ on w).

Sections, as in scratch/linreg.py and keras_impl/linreg.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["linreg_data", "LinearRegression", "build", "loss_fn", "train", "to_canonical", "from_canonical"]

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical

# ---- data: X (N, F), y (N, 1); by default 1000 × 2 synthetic points, w = [2, −3.4], b = 4.2, noise σ 0.01
from triptych.data import linreg_data


# ---- model
class LinearRegression(nn.Module):
    """x (N, F) → x Wᵀ + b → (N, 1); ``weight_decay`` λ is what the optimizer applies to W (see param_groups)."""

    def __init__(self, in_features: int, weight_decay: float = 0.0):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)
        self.weight_decay = weight_decay

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def build(config: dict) -> LinearRegression:
    model = LinearRegression(config["in_features"], config["l2"])
    if config["init"] == "zeros":
        nn.init.zeros_(model.linear.weight)
        nn.init.zeros_(model.linear.bias)
    elif config["init"] != "default":
        raise ValueError(f"linreg: init {config['init']!r} is not offered; expected 'default' or 'zeros'")
    return model


# ---- loss: mean squared error
def loss_fn() -> nn.Module:
    return nn.MSELoss()


# ---- optimizer: torch.optim.SGD(param_groups(model), lr=0.03) by default (training.make_optimizer);
#      d2l's weight decay is the optimizer's weight_decay λ on the weight's group only: g ← g + λw,
#      the gradient of λ/2·‖w‖²; the bias's group has none
def param_groups(model: LinearRegression) -> list[dict]:
    return [{"params": [model.linear.weight], "weight_decay": model.weight_decay}, {"params": [model.linear.bias]}]


# ---- training: the explicit loop in torch_impl/training.py over the shared batches
def train(model: LinearRegression, X, y, plan) -> dict:
    return training.fit(model, loss_fn(), X, y, plan, param_groups(model))


# ---- conversion: linear.W (F, 1) = linear.weight.T, linear.b (1,) = linear.bias
def to_canonical(tensors: dict) -> dict:
    return linear_to_canonical(tensors, "linear", "linear")


def from_canonical(weights: dict) -> dict:
    return linear_from_canonical(weights, "linear", "linear")
