"""Softmax regression in PyTorch: flatten 784 → 10 logits, softmax cross-entropy, SGD 0.1 — d2l's concise
``nn.Sequential(nn.Flatten(), nn.Linear(784, 10))``.

Sections, as in scratch/softmax_reg.py and keras_impl/softmax_reg.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

# ---- data: MNIST images (N, 28, 28) in [0, 1], labels (N,) 0..9 (the embedded sample, or full MNIST)
from triptych.mnist import load_mnist
from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical
from torch_impl.init import init_linear

__all__ = ["load_mnist", "build", "loss_fn", "train", "to_canonical", "from_canonical"]


# ---- model: x (N, 28, 28) → Flatten (row-major, as Keras) → Linear(784, 10) → logits (N, 10)
def build(config: dict) -> nn.Sequential:
    """torch's own initialisation (kaiming-uniform a=√5) unless ``config["init"]`` names another."""
    (h, w), classes = config["image_size"], config["num_classes"]
    model = nn.Sequential(OrderedDict(flatten=nn.Flatten(), output=nn.Linear(h * w, classes)))
    init_linear(model.output, config["init"])
    return model


# ---- loss: softmax cross-entropy on the logits (CrossEntropyLoss applies log-softmax itself)
def loss_fn() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: torch.optim.SGD(model.parameters(), lr=0.1) by default (training.make_optimizer)
# ---- training: the explicit loop in torch_impl/training.py over the shared batches of 256
def train(model: nn.Sequential, X, y, plan) -> dict:
    return training.fit(model, loss_fn(), X, y, plan)


# ---- conversion: output.W (784, 10) = output.weight.T
def to_canonical(tensors: dict) -> dict:
    return linear_to_canonical(tensors, "output", "output")


def from_canonical(weights: dict) -> dict:
    return linear_from_canonical(weights, "output", "output")
