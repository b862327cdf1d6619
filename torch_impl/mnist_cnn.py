"""MNIST convnet in PyTorch: conv 32@3×3 relu → maxpool 2 → conv 64@3×3 relu → maxpool 2 → flatten →
dropout 0.5 → dense 10, softmax cross-entropy, Adam.  Images NCHW, as torch wants them.

Sections, as in scratch/mnist_cnn.py and keras_impl/mnist_cnn.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "MnistCNN", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

import torch
from torch import nn

from triptych.models.mnist_cnn import flatten_size
from torch_impl import training
from torch_impl.convert import chw_to_hwc_columns, conv_from_canonical, conv_to_canonical, hwc_to_chw_columns, stack

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them →
#      tensors on the device (labels int64, as CrossEntropyLoss wants; forward adds the channel axis, NCHW),
#      then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
class MnistCNN(nn.Module):
    """x (N, 28, 28) → (N, 1, 28, 28) → [Conv2d → ReLU → MaxPool2d] × 2 → flatten (C, H, W) → Dropout
    → Linear → logits (N, 10)."""

    def __init__(self, image_size=(28, 28), filters=(32, 64), kernel_size=3, pool_size=2, dropout=0.5,
                 num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, filters[0], kernel_size)
        self.pool1 = nn.MaxPool2d(pool_size)
        self.conv2 = nn.Conv2d(filters[0], filters[1], kernel_size)
        self.pool2 = nn.MaxPool2d(pool_size)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(flatten_size(dict(image_size=image_size, filters=filters, kernel_size=kernel_size,
                                                  pool_size=pool_size)), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.unsqueeze(1)
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        return self.output(self.dropout(self.flatten(x)))


def build(config: dict) -> MnistCNN:
    """torch's own initialisation (kaiming-uniform a=√5); parity copies canonical weights in."""
    return MnistCNN(**config)


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: the recipe, torch.optim.Adam with lr 1e-3 (plan.lr; the parity ladder's
#      tiny epsilon comes in plan.options)
def optimizer(model: MnistCNN, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.Adam(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 128
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: MnistCNN, X, y, plan) -> dict:
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


# ---- conversion: conv{i}.W (kh, kw, in, out) = conv{i}.weight (out, in, kh, kw) permuted (2, 3, 1, 0);
# output.W = output.weight.T with its rows moved from torch's (C, H, W) flatten order to (H, W, C)
def to_canonical(tensors: dict) -> dict:
    channels = tensors["conv2.weight"].shape[0]
    return stack(conv_to_canonical(tensors, "conv1", "conv1"), conv_to_canonical(tensors, "conv2", "conv2"),
                 {"output.W": chw_to_hwc_columns(tensors["output.weight"], channels).T,
                  "output.b": tensors["output.bias"]})


def from_canonical(weights: dict) -> dict:
    channels = weights["conv2.W"].shape[3]
    return stack(conv_from_canonical(weights, "conv1", "conv1"), conv_from_canonical(weights, "conv2", "conv2"),
                 {"output.weight": hwc_to_chw_columns(weights["output.W"].T, channels),
                  "output.bias": weights["output.b"]})
