"""Softmax regression in PyTorch: flatten 784 → 10 logits, softmax cross-entropy, SGD 0.1 — d2l's concise
``nn.Sequential(nn.Flatten(), nn.Linear(784, 10))``.

Sections, as in scratch/softmax_reg.py and keras_impl/softmax_reg.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical
from torch_impl.init import init_linear

__all__ = ["load_mnist", "batches", "build", "loss", "optimizer", "train", "to_canonical", "from_canonical"]

# ---- data: MNIST images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them (the
#      embedded sample, or full MNIST) → tensors on the device, then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model: x (N, 28, 28) → Flatten (row-major, as Keras) → Linear(784, 10) → logits (N, 10)
def build(config: dict) -> nn.Sequential:
    """torch's own initialisation (kaiming-uniform a=√5) unless ``config["init"]`` names another."""
    (h, w), classes = config["image_size"], config["num_classes"]
    model = nn.Sequential(OrderedDict(flatten=nn.Flatten(), output=nn.Linear(h * w, classes)))
    init_linear(model.output, config["init"])
    return model


# ---- loss: softmax cross-entropy on the logits (CrossEntropyLoss applies log-softmax itself)
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: the recipe, torch.optim.SGD with lr 0.1 (plan.lr)
def optimizer(model: nn.Sequential, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.SGD(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 256
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: nn.Sequential, X, y, plan) -> dict:
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


# ---- conversion: output.W (784, 10) = output.weight.T
def to_canonical(tensors: dict) -> dict:
    return linear_to_canonical(tensors, "output", "output")


def from_canonical(weights: dict) -> dict:
    return linear_from_canonical(weights, "output", "output")
