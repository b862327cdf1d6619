"""House-price MLP in PyTorch: 13 → 13 sigmoid → 13 sigmoid → 1, MSE, SGD 0.01.

Sections, as in scratch/house_mlp.py and keras_impl/house_mlp.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["boston_data", "HouseMLP", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import dense_stack_from_canonical, dense_stack_to_canonical
from torch_impl.init import init_linear

# ---- data: Boston housing as triptych.data.boston_data returns it, standardised with training-set statistics,
#      X (N, 13), y (N, 1) in $1000s → tensors on the device, then each epoch's shared seeded minibatches
from triptych.data import boston_data


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


class HouseMLP(nn.Module):
    """x (N, 13) → [Linear → sigmoid → Dropout] × len(hidden) → Linear → (N, 1)."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], activation: str, dropout: float):
        super().__init__()
        sizes = (in_features, *hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = _ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(sizes[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = self.dropout(self.activation(layer(x)))
        return self.output(x)


def build(config: dict) -> HouseMLP:
    model = HouseMLP(config["in_features"], config["hidden"], config["activation"], config["dropout"])
    for layer in (*model.hidden, model.output):
        init_linear(layer, config["init"])
    return model


# ---- loss: mean squared error
def loss() -> nn.Module:
    return nn.MSELoss()


# ---- optimizer: the recipe, torch.optim.SGD with lr 0.01 (plan.lr)
def optimizer(model: HouseMLP, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.SGD(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 32 (the recipe
#      evaluates every 10 epochs and keeps the best weights)
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: HouseMLP, X, y, plan) -> dict:
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
