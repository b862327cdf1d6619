"""The MNIST MLP from scratch (NumPy): flatten 784 → 256 ReLU → 64 ReLU → 10, MSE against the one-hot
label, SGD 0.1 with momentum 0.9.

Sections, as in torch_impl/mnist_mlp.py and keras_impl/mnist_mlp.py:
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
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import make_optimizer

__all__ = ["load_mnist", "OneHotMeanSquaredError", "build", "train"]


# ---- model: flatten → [Dense → ReLU] per entry of config["hidden"] → Dense to 10 raw outputs (no softmax)
def build(config: dict, seed: int, dtype: str) -> Network:
    """Kernels Glorot-uniform (or ``config["init"]``), biases zero."""
    rng = np.random.default_rng(seed)
    init = get_initializer(config["init"])
    h, w = config["image_size"]
    sizes = (h * w, *config["hidden"], config["num_classes"])
    layers = [FlattenLayer("flatten")]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        last = i == len(sizes) - 1
        layers.append(Dense("output" if last else f"hidden{i}", W=init(rng, (n_in, n_out), n_in, n_out, dtype),
                            b=np.zeros(n_out, dtype), activation="linear" if last else config["activation"]))
    return Network(layers, OneHotMeanSquaredError(), input_shape=tuple(config["image_size"]))


# ---- loss: MSE against the one-hot label, mean over all N × 10 entries (as torch MSELoss and Keras do)
class OneHotMeanSquaredError(MeanSquaredError):
    """L = mean((p − onehot(y))²) over N·C entries;  dL/dp = 2 (p − onehot(y)) / (N·C).   p (N, C), y (N,)."""

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        return super().forward(prediction, np.eye(prediction.shape[1], dtype=prediction.dtype)[target])


# ---- optimizer: plan.optimizer, by default SGD lr 0.1 with momentum 0.9 (b ← 0.9 b + g, w ← w − lr·b)
# ---- training: the shared trainer over the shared batches of 512
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)


# ---- conversion: none, the scratch layout is the canonical one (hidden{i}.W (in, out), output.W (64, 10))
