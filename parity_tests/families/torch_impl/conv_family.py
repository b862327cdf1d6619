"""conv_family in PyTorch: (H, W, C) → [Conv2d → activation → MaxPool2d] × k → flatten → Linear,
softmax cross-entropy.  Images NCHW inside, as torch wants them.

Sections, as in scratch/conv_family.py and keras_impl/conv_family.py.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from parity_tests.families.conv_family import feature_maps
from torch_impl import training
from torch_impl.convert import (chw_to_hwc_columns, conv_from_canonical, conv_to_canonical, hwc_to_chw_columns,
                                stack)
from triptych.canonical import same_padding

ACTIVATIONS = {"linear": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}

# ---- data: random images (N, H, W, C) and labels (N,) (parity_tests.families.synthetic_source)


# ---- model
class TFSamePad(nn.Module):
    """TensorFlow's 'same' padding for a strided convolution, which torch's ``padding="same"`` refuses:
    output ⌈size / stride⌉, the odd extra pixel after (bottom, right); it depends on the input size."""

    def __init__(self, kernel: tuple[int, int], stride: int):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), s = self.kernel, self.stride
        return F.pad(x, (*same_padding(x.shape[3], kw, s), *same_padding(x.shape[2], kh, s)))


class Block(nn.Module):
    """(pad) → Conv2d → activation → (MaxPool2d).  'same' is torch's own ``padding="same"`` at stride 1
    and :class:`TFSamePad` at stride 2; no pooling module when pool = 1."""

    def __init__(self, c_in: int, conv):
        super().__init__()
        explicit = conv.padding == "same" and conv.stride > 1
        self.pad = TFSamePad(conv.kernel, conv.stride) if explicit else nn.Identity()
        self.conv = nn.Conv2d(c_in, conv.filters, conv.kernel, stride=conv.stride,
                              padding="same" if conv.padding == "same" and not explicit else 0)
        self.activation = ACTIVATIONS[conv.activation]()
        self.pool = nn.MaxPool2d(conv.pool) if conv.pool > 1 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.activation(self.conv(self.pad(x))))


class ConvFamily(nn.Module):
    """x (N, H, W, C) → (N, C, H, W) → blocks → flatten (C, H, W) → Linear → logits (N, classes)."""

    def __init__(self, config: dict):
        super().__init__()
        channels = (config["channels"], *(conv.filters for conv in config["convs"]))
        self.blocks = nn.ModuleList(Block(c_in, conv) for c_in, conv in zip(channels[:-1], config["convs"]))
        h, w = feature_maps(config)[-1]
        self.flatten = nn.Flatten()
        self.output = nn.Linear(channels[-1] * h * w, config["num_classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2)
        for block in self.blocks:
            x = block(x)
        return self.output(self.flatten(x))


def build(config: dict) -> ConvFamily:
    """torch's own initialisation; parity copies canonical weights in."""
    return ConvFamily(config)


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: torch.optim.SGD / Adam as the plan asks (torch_impl/training.make_optimizer)
# ---- training: the explicit loop in torch_impl/training.py over the shared batches
def train(model: ConvFamily, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: conv{i}.W (kh, kw, in, out) = blocks.{i−1}.conv.weight (out, in, kh, kw) permuted;
# output.W = output.weight.T with its rows moved from torch's (C, H, W) flatten order to (H, W, C)
def to_canonical(tensors: dict) -> dict:
    n = sum(1 for k in tensors if k.startswith("blocks.") and k.endswith(".conv.weight"))
    channels = tensors[f"blocks.{n - 1}.conv.weight"].shape[0]
    return stack(*(conv_to_canonical(tensors, f"blocks.{i}.conv", f"conv{i + 1}") for i in range(n)),
                 {"output.W": chw_to_hwc_columns(tensors["output.weight"], channels).T,
                  "output.b": tensors["output.bias"]})


def from_canonical(weights: dict) -> dict:
    n = sum(1 for k in weights if k.startswith("conv") and k.endswith(".W"))
    channels = weights[f"conv{n}.W"].shape[3]
    return stack(*(conv_from_canonical(weights, f"conv{i + 1}", f"blocks.{i}.conv") for i in range(n)),
                 {"output.weight": hwc_to_chw_columns(weights["output.W"].T, channels),
                  "output.bias": weights["output.b"]})
