"""Simple tanh RNN on MNIST rows in PyTorch: 28 rows × 28 pixels → nn.RNN 64 → dense 10 on the last hidden
state, softmax cross-entropy, Adam.

Sections, as in scratch/rnn.py and keras_impl/rnn.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical, lstm_from_canonical, lstm_to_canonical, stack

__all__ = ["load_mnist", "RowRNN", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them → tensors
#      on the device, each image read as 28 steps of 28 pixels, then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
class RowRNN(nn.Module):
    """x (N, T, 28) → nn.RNN(tanh, batch_first=True) → h_T (N, u) → Linear → logits (N, 10).

    h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh): the two biases only ever appear as their sum
    and receive the same gradient; the canonical layout (and Keras) has one.  b_hh is therefore zero and
    frozen here, so b_ih is the one bias and trains at the same speed as Keras's (as in the LSTM)."""

    def __init__(self, in_features: int, units: int, num_classes: int):
        super().__init__()
        self.rnn = nn.RNN(in_features, units, nonlinearity="tanh", batch_first=True)
        nn.init.zeros_(self.rnn.bias_hh_l0)
        self.rnn.bias_hh_l0.requires_grad_(False)
        self.output = nn.Linear(units, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_last = self.rnn(x)
        return self.output(h_last[-1])


def build(config: dict) -> RowRNN:
    """torch's own initialisation (uniform ±1/√u); parity copies canonical weights in."""
    return RowRNN(config["in_features"], config["units"], config["num_classes"])


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: the recipe, torch.optim.Adam with lr 1e-3 over the trainable parameters
#      (b_hh excluded; the parity ladder's tiny epsilon comes in plan.options)
def optimizer(model: RowRNN, plan) -> torch.optim.Optimizer:
    trainable = [p for p in model.parameters() if p.requires_grad]  # b_hh is frozen
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(trainable, plan)
    return torch.optim.Adam(trainable, lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 128
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: RowRNN, X, y, plan) -> dict:
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


# ---- conversion: rnn.W (F, u) = weight_ih_l0.T, rnn.U (u, u) = weight_hh_l0.T, rnn.b = b_ih + b_hh;
# output.W = output.weight.T
def to_canonical(tensors: dict) -> dict:
    return stack(lstm_to_canonical(tensors, "rnn", {0: "rnn"}), linear_to_canonical(tensors, "output", "output"))


def from_canonical(weights: dict) -> dict:
    return stack(lstm_from_canonical(weights, "rnn", {0: "rnn"}, bidirectional=False),
                 linear_from_canonical(weights, "output", "output"))
