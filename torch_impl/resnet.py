"""A small ResNet in PyTorch: conv 3×3 16 (no bias) → BatchNorm → ReLU → residual blocks 16, 32 (stride 2),
64 (stride 2) → global average pool → dense 10, softmax cross-entropy, Adam.  Images NCHW, as torch wants them.

'same' padding as TensorFlow does it: nn.Conv2d(padding="same") refuses stride 2, and symmetric padding=1 would
put the odd pixel of a stride-2 3×3 convolution on an even input before instead of after; so each convolution pads
explicitly with F.pad (torch_impl.layers.SameConv2d: the extra pixel after) and convolves 'valid'.
BatchNorm2d's momentum is 1 − Keras's (0.1 for 0.9), the epsilon the declaration's; its running variance takes the
unbiased batch variance (÷ n − 1) where scratch and Keras take the biased one: the parity ladder reports that
difference by name (triptych.tolerances.KNOWN_DIFFERENCES).

Sections, as in scratch/resnet.py and keras_impl/resnet.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "ResidualBlock", "ResNet", "batches", "build", "loss", "optimizer", "train",
           "to_canonical", "from_canonical"]

import re

import torch
from torch import nn

from triptych.models.resnet import blocks, needs_projection
from torch_impl import training
from torch_impl.layers import SameConv2d
from torch_impl.convert import (batchnorm_from_canonical, batchnorm_to_canonical, conv_kernel_from_canonical,
                                conv_kernel_to_canonical, linear_from_canonical, linear_to_canonical, stack)

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them →
#      tensors on the device (labels int64, as CrossEntropyLoss wants; forward adds the channel axis, NCHW),
#      then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
class ResidualBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); shortcut: the identity, or shortcut_bn(1×1 conv of
    stride s) when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel_size: int, momentum: float, eps: float):
        super().__init__()
        self.conv1 = SameConv2d(c_in, c_out, kernel_size, stride)
        self.bn1 = nn.BatchNorm2d(c_out, eps=eps, momentum=momentum)
        self.conv2 = SameConv2d(c_out, c_out, kernel_size)
        self.bn2 = nn.BatchNorm2d(c_out, eps=eps, momentum=momentum)
        self.shortcut = self.shortcut_bn = None
        if needs_projection(c_in, c_out, stride):
            self.shortcut = SameConv2d(c_in, c_out, 1, stride)
            self.shortcut_bn = nn.BatchNorm2d(c_out, eps=eps, momentum=momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        short = x if self.shortcut is None else self.shortcut_bn(self.shortcut(x))
        return torch.relu(out + short)


class ResNet(nn.Module):
    """x (N, 28, 28) → (N, 1, 28, 28) → conv1 → bn1 → ReLU → blocks → mean over (H, W) → Linear → logits (N, 10)."""

    def __init__(self, config: dict):
        super().__init__()
        k, stem = config["kernel_size"], config["filters"][0]
        bn = dict(momentum=1.0 - config["bn_momentum"], eps=config["bn_epsilon"])  # torch's momentum: 1 − Keras's
        self.conv1 = SameConv2d(1, stem, k)
        self.bn1 = nn.BatchNorm2d(stem, **bn)
        self.blocks = nn.ModuleDict({name: ResidualBlock(c_in, c_out, stride, k, **bn)
                                     for name, c_in, c_out, stride in blocks(config)})
        self.output = nn.Linear(config["filters"][-1], config["num_classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        for block in self.blocks.values():
            x = block(x)
        return self.output(x.mean(dim=(2, 3)))


def build(config: dict) -> ResNet:
    """torch's own initialisation (kaiming-uniform a=√5; BatchNorm γ 1, β 0); parity copies canonical weights in."""
    return ResNet(config)


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: the recipe, torch.optim.Adam with lr 1e-3 (plan.lr; the parity ladder's tiny epsilon comes in
#      plan.options) over the parameters (the running statistics are buffers, not parameters)
def optimizer(model: ResNet, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.Adam(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward (train mode: batch statistics, running statistics updated) → loss →
#      backward → step over the shared batches of 128 (training.Run keeps the books: each step's loss, NaN check,
#      LR schedule, evaluation, keep-best, DDP replicas)
def train(model: ResNet, X, y, plan) -> dict:
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


# ---- conversion: conv kernels (out, in, kh, kw) permuted (2, 3, 1, 0) to (kh, kw, in, out); BatchNorm2d weight,
# bias → gamma, beta and its running_mean, running_var buffers → the state moving_mean, moving_variance;
# blocks.<name>.… → <name>.…; output.W = output.weight.T
def _bn_convs(prefix_torch: str, prefix: str, has_shortcut: bool) -> list[tuple[str, str, str]]:
    """(kind, torch name, canonical name) of one block's convolutions and BatchNorms."""
    names = ["conv1", "bn1", "conv2", "bn2"] + (["shortcut", "shortcut_bn"] if has_shortcut else [])
    return [("bn" if n.startswith("bn") or n.endswith("_bn") else "conv", prefix_torch + n, prefix + n) for n in names]


def _parts(keys) -> list[tuple[str, str, str]]:
    parts = [("conv", "conv1", "conv1"), ("bn", "bn1", "bn1")]
    names = sorted({part for k in keys for part in k.split(".")[:2] if re.fullmatch(r"block\d+", part)},
                   key=lambda n: int(n[5:]))
    for name in names:
        shortcut = any(k.startswith((f"blocks.{name}.shortcut.", f"{name}.shortcut.")) for k in keys)
        parts += _bn_convs(f"blocks.{name}.", f"{name}.", shortcut)
    return parts


def to_canonical(tensors: dict) -> dict:
    convert = {"conv": conv_kernel_to_canonical, "bn": batchnorm_to_canonical}
    return stack(*(convert[kind](tensors, theirs, ours) for kind, theirs, ours in _parts(tensors)),
                 linear_to_canonical(tensors, "output", "output"))


def from_canonical(weights: dict) -> dict:
    convert = {"conv": conv_kernel_from_canonical, "bn": batchnorm_from_canonical}
    return stack(*(convert[kind](weights, ours, theirs) for kind, theirs, ours in _parts(weights)),
                 linear_from_canonical(weights, "output", "output"))
