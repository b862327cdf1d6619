"""The MNIST MLP from scratch (NumPy): flatten 784 → 256 ReLU → 64 ReLU → 10, MSE against the one-hot
label, SGD 0.1 with momentum 0.9.

Sections, as in torch_impl/mnist_mlp.py and keras_impl/mnist_mlp.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "OneHotMeanSquaredError", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.conv import FlattenLayer
from scratch.init import get_initializer
from scratch.layers import Dense
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import SGD, Optimizer, make_optimizer

# ---- data: MNIST images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them (the
#      embedded sample, or full MNIST); NumPy rows in the shared sampler's minibatches of 512
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


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
    return Network(layers, loss(), input_shape=tuple(config["image_size"]))


# ---- loss: MSE against the one-hot label, mean over all N × 10 entries (as torch MSELoss and Keras do)
class OneHotMeanSquaredError(MeanSquaredError):
    """L = mean((p − onehot(y))²) over N·C entries;  dL/dp = 2 (p − onehot(y)) / (N·C).   p (N, C), y (N,)."""

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        return super().forward(prediction, np.eye(prediction.shape[1], dtype=prediction.dtype)[target])


def loss() -> OneHotMeanSquaredError:
    return OneHotMeanSquaredError()


# ---- optimizer: the recipe, scratch's SGD with lr 0.1 and momentum 0.9 (b ← 0.9 b + g, w ← w − lr·b; the
#      momentum comes in plan.options from the model's declaration); another optimizer: the shared factory
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "sgd":
        return make_optimizer(plan)
    return SGD(plan.lr, **plan.options)


# ---- training: forward → loss → backward → update over the shared batches (trainer.Run keeps the books:
#      each step's loss and its NaN check, the learning-rate schedule, evaluation, keep-best, progress)
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    data, opt = batches(X, y, plan), optimizer(plan)
    run = trainer.Run(network, opt, data, plan)
    for epoch in run.epochs():
        network.train()
        for X_b, y_b in data.epoch(epoch):
            batch_loss = network.loss.forward(network.forward(X_b), y_b)
            run.record(batch_loss)
            network.backward(network.loss.backward(), input_grad=False)
            opt.step(network.params(), network.grads())
    return run.history


# ---- conversion: none, the scratch layout is the canonical one (hidden{i}.W (in, out), output.W (64, 10))
