"""A small ResNet from scratch (NumPy): conv 3×3 16 (no bias) → BatchNorm → ReLU → residual blocks 16, 32
(stride 2), 64 (stride 2) → global average pool → dense 10, softmax cross-entropy, Adam.  Images NHWC, as in Keras.

A block: conv 3×3 (stride s, no bias) → BN → ReLU → conv 3×3 → BN, plus the shortcut (the identity, or a 1×1
conv of stride s + BN when the shape changes), added, then ReLU.  Every convolution pads 'same' by TensorFlow's
rule (an odd padding puts its extra pixel after).  BatchNorm normalises with the batch statistics in training and
with its moving statistics in inference (scratch.layers.BatchNorm, its backward beside its forward).

Sections, as in torch_impl/resnet.py and keras_impl/resnet.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from triptych.models.resnet import blocks, needs_projection
from scratch import trainer
from scratch.conv import Conv2D, ReshapeLayer
from scratch.init import glorot_uniform
from scratch.layers import BatchNormLayer, Dense, GlobalAveragePoolLayer, Layer, Residual
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.ops import ReLU
from scratch.optimizers import Adam, Optimizer, make_optimizer

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them; NumPy rows
#      in the shared sampler's minibatches of 128 (the first layer adds the channel axis: NHWC)
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: (N, 28, 28) → channel axis → stem conv → BN → ReLU → residual blocks → global average pool → dense
def build(config: dict, seed: int, dtype: str) -> Network:
    """Glorot-uniform kernels (fans kh·kw·in and kh·kw·out, as Keras), BatchNorm γ = 1, β = 0, moving mean 0 and
    variance 1, a zero dense bias."""
    rng = np.random.default_rng(seed)
    k, (h, w) = config["kernel_size"], config["image_size"]
    norm = dict(dtype=dtype, momentum=config["bn_momentum"], epsilon=config["bn_epsilon"])

    def conv(name, c_in, c_out, size=k, stride=1):  # a convolution without bias, 'same' padding
        kernel = glorot_uniform(rng, (size, size, c_in, c_out), size * size * c_in, size * size * c_out, dtype)
        return Layer(name, [Conv2D(kernel, stride, "same")])

    stem = config["filters"][0]
    layers = [ReshapeLayer("reshape", (h, w, 1)), conv("conv1", 1, stem), BatchNormLayer("bn1", stem, **norm),
              Layer("relu1", [ReLU()])]
    for name, c_in, c_out, stride in blocks(config):
        main = [conv("conv1", c_in, c_out, stride=stride), BatchNormLayer("bn1", c_out, **norm), Layer("relu", [ReLU()]),
                conv("conv2", c_out, c_out), BatchNormLayer("bn2", c_out, **norm)]
        shortcut = ([conv("shortcut", c_in, c_out, size=1, stride=stride), BatchNormLayer("shortcut_bn", c_out, **norm)]
                    if needs_projection(c_in, c_out, stride) else [])
        layers.append(Residual(name, main, shortcut, activation="relu"))
    n_in, n_out = config["filters"][-1], config["num_classes"]
    layers += [GlobalAveragePoolLayer("pool"),
               Dense("output", W=glorot_uniform(rng, (n_in, n_out), n_in, n_out, dtype), b=np.zeros(n_out, dtype))]
    return Network(layers, loss(), input_shape=tuple(config["image_size"]))


# ---- loss: softmax cross-entropy on the logits (the network outputs logits)
def loss() -> SoftmaxCrossEntropy:
    return SoftmaxCrossEntropy()


# ---- optimizer: the recipe, scratch's Adam with lr 1e-3 over the trainable parameters only (the BatchNorm
#      moving statistics are state; the parity ladder's tiny epsilon comes in plan.options; another optimizer the
#      caller names: the shared factory)
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "adam":
        return make_optimizer(plan)
    return Adam(plan.lr, **plan.options)


# ---- training: forward (training mode: batch statistics, the moving statistics updated) → loss → backward →
#      update over the shared batches (trainer.Run keeps the books: each step's loss and its NaN check, the
#      learning-rate schedule, evaluation, keep-best, progress)
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


# ---- conversion: none — the scratch layout is the canonical one: conv kernels (kh, kw, in, out), BatchNorm
# <bn>.gamma, .beta (trained) and .moving_mean, .moving_variance (state, the biased variance's moving average),
# blocks' entries under block{i}., output.W (C, 10), output.b (10,)
