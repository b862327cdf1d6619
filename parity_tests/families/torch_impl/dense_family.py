"""dense_family in PyTorch: F → [nn.Linear → activation] × depth → nn.Linear(·, 1), MSE.

Sections, as in scratch/dense_family.py and keras_impl/dense_family.py.
"""
from __future__ import annotations

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import dense_stack_from_canonical, dense_stack_to_canonical

ACTIVATIONS = {"linear": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}

# ---- data: random X (N, F) and targets (N, 1) (parity_tests.families.synthetic_source)


# ---- model
class DenseFamily(nn.Module):
    """x (N, F) → [Linear → activation] per hidden layer → Linear → (N, 1)."""

    def __init__(self, in_features: int, hidden):
        super().__init__()
        sizes = (in_features, *(h.width for h in hidden))
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activations = nn.ModuleList(ACTIVATIONS[h.activation]() for h in hidden)
        self.output = nn.Linear(sizes[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer, activation in zip(self.hidden, self.activations):
            x = activation(layer(x))
        return self.output(x)


def build(config: dict) -> DenseFamily:
    """torch's own initialisation; parity copies canonical weights in."""
    return DenseFamily(config["in_features"], config["hidden"])


# ---- loss: mean squared error
def loss() -> nn.Module:
    return nn.MSELoss()


# ---- optimizer: torch.optim.SGD / Adam as the plan asks (torch_impl/training.make_optimizer)
# ---- training: the explicit loop in torch_impl/training.py over the shared batches
def train(model: DenseFamily, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: hidden{i}.W (in, out) = hidden.{i−1}.weight.T; output.W = output.weight.T
def to_canonical(tensors: dict) -> dict:
    return dense_stack_to_canonical(tensors)


def from_canonical(weights: dict) -> dict:
    return dense_stack_from_canonical(weights)
