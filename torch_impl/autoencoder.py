"""A convolutional autoencoder in PyTorch: conv 3×3 stride 2 (1→16) relu → conv 3×3 stride 2 (16→32) relu → flatten
→ dense 32 (the code) → dense 32·7·7 relu → transposed conv 3×3 stride 2 (32→16) relu → transposed conv 3×3 stride 2
(16→1) sigmoid → (N, 28, 28), MSE on the pixels, Adam.  Images NCHW, as torch wants them.

'same' padding as Keras does it, both ways: the strided convolutions pad with F.pad (the odd pixel after), and the
transposed ones run with padding=0 and crop to s·H the way Keras's padding="same" does (torch_impl.layers).  The
common torch recipe padding=1, output_padding=1 gives 28 × 28 as well, but one pixel shifted.

Sections, as in scratch/autoencoder.py and keras_impl/autoencoder.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "Autoencoder", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

import torch
from torch import nn

from triptych.models.autoencoder import feature_map
from torch_impl import training
from torch_impl.convert import (chw_to_hwc_columns, conv_from_canonical, conv_to_canonical,
                                conv_transpose_from_canonical, conv_transpose_to_canonical, hwc_to_chw_columns, stack)
from torch_impl.layers import SameConv2d, SameConvTranspose2d

# ---- data: images (N, 28, 28) in [0, 1] as triptych.mnist.load_mnist returns them, each its own target → tensors on
#      the device (forward adds the channel axis, NCHW, and drops it again), then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
class Autoencoder(nn.Module):
    """x (N, 28, 28) → (N, 1, 28, 28) → [SameConv2d/2 → ReLU] × 2 → flatten (C, H, W) → Linear (the code) → Linear →
    ReLU → unflatten (C, H, W) → SameConvTranspose2d/2 → ReLU → SameConvTranspose2d/2 → sigmoid → (N, 28, 28)."""

    def __init__(self, config: dict):
        super().__init__()
        k, (f1, f2), code = config["kernel_size"], config["filters"], config["code_size"]
        self.shape = feature_map(config)
        flat = self.shape[0] * self.shape[1] * f2
        self.enc1 = SameConv2d(1, f1, k, stride=2, bias=True)
        self.enc2 = SameConv2d(f1, f2, k, stride=2, bias=True)
        self.code = nn.Linear(flat, code)
        self.expand = nn.Linear(code, flat)
        self.dec1 = SameConvTranspose2d(f2, f1, k, stride=2)
        self.dec2 = SameConvTranspose2d(f1, 1, k, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w, c = self.shape
        z = torch.relu(self.enc2(torch.relu(self.enc1(x.unsqueeze(1)))))
        z = torch.relu(self.expand(self.code(z.flatten(1)))).reshape(-1, c, h, w)
        return torch.sigmoid(self.dec2(torch.relu(self.dec1(z)))).squeeze(1)


def build(config: dict) -> Autoencoder:
    """torch's own initialisation (kaiming-uniform a=√5); parity copies canonical weights in."""
    return Autoencoder(config)


# ---- loss: the mean squared error over every pixel of every image
def loss() -> nn.Module:
    return nn.MSELoss()


# ---- optimizer: the recipe, torch.optim.Adam with lr 1e-3 (plan.lr; the parity ladder's tiny epsilon comes in
#      plan.options)
def optimizer(model: Autoencoder, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.Adam(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss against the images themselves → backward → step over the shared batches
#      of 128 (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, DDP replicas)
def train(model: Autoencoder, X, y, plan) -> dict:
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


# ---- conversion: enc{i} conv kernels (out, in, kh, kw) → (kh, kw, in, out); dec{i} transposed kernels (in, out, kh,
# kw) → (kh, kw, out, in); code.W = code.weight.T with its rows moved from (C, H, W) to (H, W, C) order; expand.W =
# expand.weight.T and expand.b with their columns moved the same way (torch unflattens (C, H, W))
def to_canonical(tensors: dict) -> dict:
    channels = tensors["enc2.weight"].shape[0]
    return stack(conv_to_canonical(tensors, "enc1", "enc1"), conv_to_canonical(tensors, "enc2", "enc2"),
                 {"code.W": chw_to_hwc_columns(tensors["code.weight"], channels).T, "code.b": tensors["code.bias"],
                  "expand.W": chw_to_hwc_columns(tensors["expand.weight"].T, channels),
                  "expand.b": chw_to_hwc_columns(tensors["expand.bias"][None], channels)[0]},
                 conv_transpose_to_canonical(tensors, "dec1", "dec1"), conv_transpose_to_canonical(tensors, "dec2", "dec2"))


def from_canonical(weights: dict) -> dict:
    channels = weights["enc2.W"].shape[3]
    return stack(conv_from_canonical(weights, "enc1", "enc1"), conv_from_canonical(weights, "enc2", "enc2"),
                 {"code.weight": hwc_to_chw_columns(weights["code.W"].T, channels), "code.bias": weights["code.b"],
                  "expand.weight": hwc_to_chw_columns(weights["expand.W"], channels).T.contiguous(),
                  "expand.bias": hwc_to_chw_columns(weights["expand.b"][None], channels)[0]},
                 conv_transpose_from_canonical(weights, "dec1", "dec1"),
                 conv_transpose_from_canonical(weights, "dec2", "dec2"))
