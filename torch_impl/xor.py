"""XOR in PyTorch: 2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1.

Sections, as in scratch/xor.py and keras_impl/xor.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["xor_data", "XORNet", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import dense_stack_from_canonical, dense_stack_to_canonical

# ---- data: X (4, 2) float, y (4, 1) in {0, 1} as triptych.data.xor_data returns them → tensors on the
#      device (the CPU shares the arrays' memory), then each epoch's shared seeded minibatches
from triptych.data import xor_data


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


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
def loss() -> nn.Module:
    return nn.BCELoss()


# ---- optimizer: the recipe, torch.optim.SGD with lr 0.1 (plan.lr)
def optimizer(model: XORNet, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.SGD(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches (of one point by
#      default)
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: XORNet, X, y, plan) -> dict:
    data, criterion, opt = batches(X, y, plan), loss(), optimizer(model, plan)
    run = training.Run(model, data, criterion, opt, plan)
    for epoch in run.epochs():
        run.model.train()
        for X_b, y_b in data.epoch(epoch):
            opt.zero_grad()
            batch_loss = criterion(run.model(X_b), y_b)
            run.record(batch_loss)
            batch_loss.backward()
            opt.step()
    return run.history


# ---- conversion: hidden{i}.W (in, out) = hidden[i-1].weight.T; output.W = output.weight.T; biases as they are
def to_canonical(tensors: dict) -> dict:
    return dense_stack_to_canonical(tensors)


def from_canonical(weights: dict) -> dict:
    return dense_stack_from_canonical(weights)
