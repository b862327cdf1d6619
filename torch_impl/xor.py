"""XOR in PyTorch: 2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1.

Sections, as in scratch/xor.py and keras_impl/xor.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["xor_data", "XORNet", "build", "loss_fn", "train", "to_canonical", "from_canonical"]

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import dense_stack_from_canonical, dense_stack_to_canonical

# ---- data: the four XOR points, X (4, 2) float, y (4, 1) in {0, 1}; the loop makes tensors of them without a copy
from triptych.data import xor_data


# ---- model
class XORNet(nn.Module):
    """x (N, 2) → Linear → tanh → … → Linear → sigmoid → p (N, 1)."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], activation: str):
        super().__init__()
        sizes = (in_features, *hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = {"tanh": nn.Tanh(), "sigmoid": nn.Sigmoid(), "relu": nn.ReLU()}[activation]
        self.output = nn.Linear(sizes[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = self.activation(layer(x))
        return torch.sigmoid(self.output(x))


def build(config: dict) -> XORNet:
    """torch's own initialisation (kaiming-uniform a=√5); parity copies canonical weights in."""
    if config["init"] != "default":
        raise ValueError(f"xor: init {config['init']!r} is not offered; expected 'default'")
    return XORNet(config["in_features"], config["hidden"], config["activation"])


# ---- loss: binary cross-entropy on probabilities (torch clamps log at −100)
def loss_fn() -> nn.Module:
    return nn.BCELoss()


# ---- optimizer: torch.optim.SGD(model.parameters(), lr=0.1) by default (training.make_optimizer)
# ---- training: the explicit loop in torch_impl/training.py over the shared batches
def train(model: XORNet, X, y, plan) -> dict:
    return training.fit(model, loss_fn(), X, y, plan)


# ---- conversion: hidden{i}.W (in, out) = hidden[i-1].weight.T; output.W = output.weight.T; biases as they are
def to_canonical(tensors: dict) -> dict:
    return dense_stack_to_canonical(tensors)


def from_canonical(weights: dict) -> dict:
    return dense_stack_from_canonical(weights)
