"""Softmax regression from scratch (NumPy): flatten 784 → 10 logits, softmax cross-entropy, SGD 0.1.

Sections, as in torch_impl/softmax_reg.py and keras_impl/softmax_reg.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import numpy as np

# ---- data: MNIST images (N, 28, 28) in [0, 1], labels (N,) 0..9 (the embedded sample, or full MNIST)
from triptych.mnist import load_mnist
from scratch import trainer
from scratch.conv import FlattenLayer
from scratch.init import get_initializer
from scratch.layers import Dense
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import make_optimizer

__all__ = ["load_mnist", "build", "loss", "train"]


# ---- model: flatten (N, 28, 28) → (N, 784) row-major, then one Dense layer to the 10 logits: z = x W + b
def build(config: dict, seed: int, dtype: str) -> Network:
    """W (784, 10) Glorot-uniform (or ``config["init"]``), b zero."""
    rng = np.random.default_rng(seed)
    (h, w), n_out = config["image_size"], config["num_classes"]
    W = get_initializer(config["init"])(rng, (h * w, n_out), h * w, n_out, dtype)
    layers = [FlattenLayer("flatten"), Dense("output", W=W, b=np.zeros(n_out, dtype))]
    return Network(layers, loss(), input_shape=tuple(config["image_size"]))


# ---- loss: softmax cross-entropy on the logits, mean over the batch; dL/dz = (softmax(z) − onehot(y)) / N
def loss() -> SoftmaxCrossEntropy:
    return SoftmaxCrossEntropy()


# ---- optimizer: plan.optimizer, by default plain SGD, lr 0.1 (scratch/optimizers.py)
# ---- training: the shared trainer over the shared batches of 256
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)


# ---- conversion: none, the scratch layout is the canonical one (output.W (784, 10), output.b (10,))
