"""The MNIST MLP in PyTorch: flatten 784 → 256 ReLU → 64 ReLU → 10, MSE against the one-hot label, SGD 0.1
with momentum 0.9 — the PyTorch tutorial's network.

Sections, as in scratch/mnist_mlp.py and keras_impl/mnist_mlp.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from torch_impl import training
from torch_impl.convert import dense_stack_from_canonical, dense_stack_to_canonical
from torch_impl.init import init_linear

__all__ = ["load_mnist", "MnistMLP", "OneHotMSELoss", "batches", "build", "loss", "optimizer", "train",
           "to_canonical", "from_canonical"]

# ---- data: MNIST images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them (the
#      embedded sample, or full MNIST) → tensors on the device, then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "linear": nn.Identity}


class MnistMLP(nn.Module):
    """x (N, 28, 28) → flatten (N, 784) → [Linear → ReLU] × len(hidden) → Linear → raw outputs (N, 10)."""

    def __init__(self, image_size: tuple[int, int], hidden: tuple[int, ...], activation: str, num_classes: int):
        super().__init__()
        sizes = (image_size[0] * image_size[1], *hidden)
        self.flatten = nn.Flatten()
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = _ACTIVATIONS[activation]()
        self.output = nn.Linear(sizes[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(x)
        for layer in self.hidden:
            x = self.activation(layer(x))
        return self.output(x)


def build(config: dict) -> MnistMLP:
    """torch's own initialisation (kaiming-uniform a=√5) unless ``config["init"]`` names another."""
    model = MnistMLP(config["image_size"], config["hidden"], config["activation"], config["num_classes"])
    for layer in (*model.hidden, model.output):
        init_linear(layer, config["init"])
    return model


# ---- loss: nn.MSELoss (reduction "mean": the mean over all N × 10 entries) against one_hot(label)
class OneHotMSELoss(nn.MSELoss):
    """mean((p − one_hot(y))²) over N·C entries.   p (N, C), y (N,) int64."""

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return super().forward(input, F.one_hot(target, input.shape[1]).to(input.dtype))


def loss() -> nn.Module:
    return OneHotMSELoss()


# ---- optimizer: the recipe, torch.optim.SGD with lr 0.1 and momentum 0.9 (plan.lr and
#      the recipe's plan.options)
def optimizer(model: MnistMLP, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.SGD(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 512
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: MnistMLP, X, y, plan) -> dict:
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


# ---- conversion: hidden{i}.W (in, out) = hidden[i-1].weight.T; output.W = output.weight.T
def to_canonical(tensors: dict) -> dict:
    return dense_stack_to_canonical(tensors)


def from_canonical(weights: dict) -> dict:
    return dense_stack_from_canonical(weights)
