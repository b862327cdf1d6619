"""The L-layer network in PyTorch: 30 → 20 ReLU → 7 ReLU → 5 ReLU → 1 sigmoid, He initialisation, binary
cross-entropy, full-batch gradient descent 0.0075.  ``nn.Linear.weight`` is (out, in): the notebook's W.

Sections, as in scratch/deep_net.py and keras_impl/deep_net.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from torch_impl import training
from torch_impl.init import init_linear

__all__ = ["breast_cancer_data", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

# ---- data: standardised breast-cancer rows X (N, 30), y (N, 1) in {0, 1} as triptych.data.breast_cancer_data
#      returns them (examples as rows, as torch wants) → tensors on the device, then each epoch's shared seeded
#      minibatches (the recipe: batch_size None, one full batch per epoch: plain gradient descent)
from triptych.data import breast_cancer_data


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model: nn.Sequential linear1, relu1, …, linear<L>, sigmoid; kaiming_normal_ (He, fan_in) weights, zero biases
def build(config: dict) -> nn.Sequential:
    dims = (config["in_features"], *config["hidden"], 1)
    L = len(dims) - 1
    layers = OrderedDict()
    for l in range(1, L + 1):
        layers[f"linear{l}"] = nn.Linear(dims[l - 1], dims[l])
        init_linear(layers[f"linear{l}"], config["init"])
        layers[f"relu{l}" if l < L else "sigmoid"] = nn.ReLU() if l < L else nn.Sigmoid()
    return nn.Sequential(layers)


# ---- loss: binary cross-entropy on the probabilities (torch clamps log at −100)
def loss() -> nn.Module:
    return nn.BCELoss()


# ---- optimizer: the recipe, torch.optim.SGD with lr 0.0075 (plan.lr): with one full batch
#      per epoch, plain gradient descent
def optimizer(model: nn.Sequential, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.SGD(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches (one full batch per epoch
#      by default)
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


# ---- conversion: W<l> = linear<l>.weight as it is (out, in); b<l> = linear<l>.bias as a column (n_l, 1)
def to_canonical(tensors: dict) -> dict:
    weights = {}
    for l in range(1, sum(1 for k in tensors if k.endswith(".weight")) + 1):
        weights[f"W{l}"] = tensors[f"linear{l}.weight"]
        weights[f"b{l}"] = tensors[f"linear{l}.bias"].reshape(-1, 1)
    return weights


def from_canonical(weights: dict) -> dict:
    state = {}
    for l in range(1, len(weights) // 2 + 1):
        state[f"linear{l}.weight"] = weights[f"W{l}"]
        state[f"linear{l}.bias"] = weights[f"b{l}"].reshape(-1)
    return state
