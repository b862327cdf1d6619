"""GRU on MNIST rows in PyTorch: 28 rows × 28 pixels → nn.GRU 64 → dense 10 on the last hidden state,
softmax cross-entropy, Adam.

Sections, as in scratch/gru.py and keras_impl/gru.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import gru_from_canonical, gru_to_canonical, linear_from_canonical, linear_to_canonical, stack

__all__ = ["load_mnist", "RowGRU", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them → tensors
#      on the device, each image read as 28 steps of 28 pixels, then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
class RowGRU(nn.Module):
    """x (N, T, 28) → nn.GRU(batch_first=True) → h_T (N, u) → Linear → logits (N, 10).

    torch's GRU, gates r, z, n:  r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h.
    Both biases are kept and trained: b_hn sits inside r ⊙ (…), so unlike the LSTM's the pair cannot be
    folded into one (Keras's reset_after=True GRU has the same two)."""

    def __init__(self, in_features: int, units: int, num_classes: int):
        super().__init__()
        self.gru = nn.GRU(in_features, units, batch_first=True)
        self.output = nn.Linear(units, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_last = self.gru(x)
        return self.output(h_last[-1])


def build(config: dict) -> RowGRU:
    """torch's own initialisation (uniform ±1/√u); parity copies canonical weights in."""
    return RowGRU(config["in_features"], config["units"], config["num_classes"])


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: the recipe, torch.optim.Adam with lr 1e-3 over all parameters, both biases
#      included (the parity ladder's tiny epsilon comes in plan.options)
def optimizer(model: RowGRU, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.Adam(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 128
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: RowGRU, X, y, plan) -> dict:
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


# ---- conversion: torch stacks its gate blocks r, z, n along the rows, the canonical layout z, r, h
# along the columns: gru.W = swap(weight_ih_l0).T, gru.U = swap(weight_hh_l0).T,
# gru.b = [swap(bias_ih_l0), swap(bias_hh_l0)]; output.W = output.weight.T
def to_canonical(tensors: dict) -> dict:
    return stack(gru_to_canonical(tensors, "gru", {0: "gru"}), linear_to_canonical(tensors, "output", "output"))


def from_canonical(weights: dict) -> dict:
    return stack(gru_from_canonical(weights, "gru", {0: "gru"}, bidirectional=False),
                 linear_from_canonical(weights, "output", "output"))
