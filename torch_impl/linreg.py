"""Linear regression in PyTorch: y = X·w + b, mean squared error, SGD (with l2 = λ: weight decay λ on w).

Sections, as in scratch/linreg.py and keras_impl/linreg.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["linreg_data", "LinearRegression", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical

# ---- data: X (N, F), y (N, 1) as triptych.data.linreg_data returns them (by default 1000 × 2 synthetic points,
#      w = [2, −3.4], b = 4.2, noise σ 0.01) → tensors on the device, then each epoch's shared seeded minibatches
from triptych.data import linreg_data


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


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
def loss() -> nn.Module:
    return nn.MSELoss()


# ---- optimizer: the recipe, torch.optim.SGD with lr 0.03 (plan.lr), over param_groups(model): d2l's weight
#      decay is the optimizer's weight_decay λ on the weight's group only: g ← g + λw, the gradient of
#      λ/2·‖w‖²; the bias's group has none (a plan's own weight_decay adds to both)
def param_groups(model: LinearRegression) -> list[dict]:
    return [{"params": [model.linear.weight], "weight_decay": model.weight_decay}, {"params": [model.linear.bias]}]


def optimizer(model: LinearRegression, plan) -> torch.optim.Optimizer:
    groups = training.with_plan_decay(param_groups(model), plan)
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(groups, plan)
    return torch.optim.SGD(groups, lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 10
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: LinearRegression, X, y, plan) -> dict:
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


# ---- conversion: linear.W (F, 1) = linear.weight.T, linear.b (1,) = linear.bias
def to_canonical(tensors: dict) -> dict:
    return linear_to_canonical(tensors, "linear", "linear")


def from_canonical(weights: dict) -> dict:
    return linear_from_canonical(weights, "linear", "linear")
