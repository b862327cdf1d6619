"""MNIST convnet from scratch (NumPy): conv 32@3×3 relu → maxpool 2 → conv 64@3×3 relu → maxpool 2 →
flatten → dropout 0.5 → dense 10, softmax cross-entropy, Adam.  Images NHWC, as in Keras.

Sections, as in torch_impl/mnist_cnn.py and keras_impl/mnist_cnn.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from triptych.models.mnist_cnn import flatten_size
from scratch import trainer
from scratch.conv import Conv2DLayer, FlattenLayer, MaxPool2DLayer, ReshapeLayer
from scratch.init import glorot_uniform
from scratch.layers import Dense, DropoutLayer
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import Adam, Optimizer, make_optimizer

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them; NumPy rows
#      in the shared sampler's minibatches of 128 (the first layer adds the channel axis: NHWC)
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: (N, 28, 28) → channel axis → [conv → relu, then max-pool] × 2 → flatten (H, W, C) → dropout → dense
def build(config: dict, seed: int, dtype: str) -> Network:
    """Glorot-uniform kernels (fans kh·kw·in and kh·kw·out, as Keras), zero biases."""
    rng = np.random.default_rng(seed)
    k, p = config["kernel_size"], config["pool_size"]
    (h, w), channels = config["image_size"], (1, *config["filters"])
    layers = [ReshapeLayer("reshape", (h, w, 1))]
    for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:]), start=1):
        kernel = glorot_uniform(rng, (k, k, c_in, c_out), k * k * c_in, k * k * c_out, dtype)
        layers += [Conv2DLayer(f"conv{i}", kernel, np.zeros(c_out, dtype), activation="relu"),
                   MaxPool2DLayer(f"pool{i}", p)]
    n_in, n_out = flatten_size(config), config["num_classes"]
    layers += [FlattenLayer("flatten"), DropoutLayer("dropout", config["dropout"], rng),
               Dense("output", W=glorot_uniform(rng, (n_in, n_out), n_in, n_out, dtype), b=np.zeros(n_out, dtype))]
    return Network(layers, loss(), input_shape=tuple(config["image_size"]))


# ---- loss: softmax cross-entropy on the logits (the network outputs logits)
def loss() -> SoftmaxCrossEntropy:
    return SoftmaxCrossEntropy()


# ---- optimizer: the recipe, scratch's Adam with lr 1e-3 (the parity ladder's tiny epsilon comes in plan.options;
#      another optimizer the caller names: the shared factory)
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "adam":
        return make_optimizer(plan)
    return Adam(plan.lr, **plan.options)


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


# ---- conversion: none — the scratch layout is the canonical one: conv{i}.W (kh, kw, in, out), conv{i}.b (out,),
# output.W (H·W·C, 10) with rows in (H, W, C) flatten order, output.b (10,)
