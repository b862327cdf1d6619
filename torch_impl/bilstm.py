"""Stacked bidirectional LSTM on MNIST rows in PyTorch: 28 rows × 28 pixels → nn.LSTM(num_layers=2,
bidirectional=True) 64 → [last forward state, final backward state] → dense 10, softmax cross-entropy, Adam.

Sections, as in scratch/bilstm.py and keras_impl/bilstm.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "RowBiLSTM", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical, lstm_from_canonical, lstm_to_canonical, stack

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them → tensors
#      on the device, each image read as 28 time steps of 28 pixels (batch_first), then each epoch's shared
#      seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
class RowBiLSTM(nn.Module):
    """x (N, T, 28) → nn.LSTM(num_layers=2, bidirectional=True, batch_first=True) → [h→_T, h←_1] (N, 2u)
    → Linear → logits (N, 10).

    torch returns the sequence with both directions concatenated per step (N, T, 2u) and h_n shaped
    (layers × 2, N, u) in the order [layer 1 forward, layer 1 backward, layer 2 forward, layer 2 backward]:
    h_n[-2] is the top layer's forward state after x_T, h_n[-1] its backward state after x_1.
    Each direction's two biases b_ih, b_hh always appear as their sum and receive the same gradient;
    the canonical layout (and Keras) has one, so every b_hh is zero and frozen (b_ih is the one bias)."""

    def __init__(self, in_features: int, units: int, num_classes: int):
        super().__init__()
        self.lstm = nn.LSTM(in_features, units, num_layers=2, bidirectional=True, batch_first=True)
        for name, p in self.lstm.named_parameters():
            if name.startswith("bias_hh"):
                nn.init.zeros_(p)
                p.requires_grad_(False)
        self.output = nn.Linear(2 * units, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.output(torch.cat([h_n[-2], h_n[-1]], dim=1))


def build(config: dict) -> RowBiLSTM:
    """torch's own initialisation (uniform ±1/√u); parity copies canonical weights in."""
    return RowBiLSTM(config["in_features"], config["units"], config["num_classes"])


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: the recipe, torch.optim.Adam with lr 1e-3 over the trainable parameters
#      (the four b_hh excluded; the parity ladder's tiny epsilon comes in plan.options)
def optimizer(model: RowBiLSTM, plan) -> torch.optim.Optimizer:
    trainable = [p for p in model.parameters() if p.requires_grad]  # every b_hh is frozen
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(trainable, plan)
    return torch.optim.Adam(trainable, lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 128
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: RowBiLSTM, X, y, plan) -> dict:
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


# ---- conversion: torch layer k (l<k>) is canonical lstm<k+1>; the forward direction's parameters are *_l<k>, the
# backward's *_l<k>_reverse: .W = weight_ih.T, .U = weight_hh.T, .b = bias_ih + bias_hh (gates i, f, g, o in both);
# weight_ih_l1's columns take [forward h_t, backward h_t] as the canonical rows do; output.W = output.weight.T
LAYERS = {0: "lstm1", 1: "lstm2"}


def to_canonical(tensors: dict) -> dict:
    return stack(lstm_to_canonical(tensors, "lstm", LAYERS), linear_to_canonical(tensors, "output", "output"))


def from_canonical(weights: dict) -> dict:
    return stack(lstm_from_canonical(weights, "lstm", LAYERS, bidirectional=True),
                 linear_from_canonical(weights, "output", "output"))
