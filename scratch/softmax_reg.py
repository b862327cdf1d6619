"""Softmax regression from scratch (NumPy): flatten 784 → 10 logits, softmax cross-entropy, SGD 0.1.

Sections, as in torch_impl/softmax_reg.py and keras_impl/softmax_reg.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.conv import FlattenLayer
from scratch.init import get_initializer
from scratch.layers import Dense
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import SGD, Optimizer, make_optimizer

# ---- data: MNIST images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them (the
#      embedded sample, or full MNIST); NumPy rows in the shared sampler's minibatches of 256
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


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


# ---- optimizer: the recipe, scratch's SGD with lr 0.1 (another optimizer the caller names: the shared factory)
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


# ---- conversion: none, the scratch layout is the canonical one (output.W (784, 10), output.b (10,))
