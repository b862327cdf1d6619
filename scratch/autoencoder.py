"""A convolutional autoencoder from scratch (NumPy): conv 3×3 stride 2 (1→16) relu → conv 3×3 stride 2 (16→32) relu
→ flatten → dense 32 (the code) → dense 32·7·7 relu → reshape (7, 7, 32) → transposed conv 3×3 stride 2 (32→16) relu
→ transposed conv 3×3 stride 2 (16→1) sigmoid → (N, 28, 28), MSE on the pixels, Adam.  Images NHWC, as in Keras.

The transposed convolution (scratch.conv.Conv2DTranspose) is the adjoint of the stride-2 'same' convolution: its
forward pass is that convolution's input gradient, its backward pass that convolution.

Sections, as in torch_impl/autoencoder.py and keras_impl/autoencoder.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from triptych.models.autoencoder import feature_map
from scratch import trainer
from scratch.conv import Conv2DLayer, Conv2DTransposeLayer, FlattenLayer, ReshapeLayer
from scratch.init import glorot_uniform
from scratch.layers import Dense
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import Adam, Optimizer, make_optimizer

# ---- data: images (N, 28, 28) in [0, 1] as triptych.mnist.load_mnist returns them, each its own target; NumPy
#      rows in the shared sampler's minibatches of 128 (the first layer adds the channel axis: NHWC)
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: encoder [conv/2 → relu] × 2 → flatten (H, W, C) → dense (the code); decoder dense → relu → reshape →
#      transposed conv/2 → relu → transposed conv/2 → sigmoid → (N, H, W)
def build(config: dict, seed: int, dtype: str) -> Network:
    """Glorot-uniform kernels (fans as Keras: kh·kw·in and kh·kw·out; for a transposed kernel (kh, kw, out, in)
    Keras's fans read its last two axes as (in, out), so the same numbers come out), zero biases."""
    rng = np.random.default_rng(seed)
    k, (f1, f2), code = config["kernel_size"], config["filters"], config["code_size"]
    (h, w), (h2, w2, _) = config["image_size"], feature_map(config)
    flat = h2 * w2 * f2

    def kernel(c_a, c_b):  # (k, k, c_a, c_b)
        return glorot_uniform(rng, (k, k, c_a, c_b), k * k * c_a, k * k * c_b, dtype)

    def zeros(n):
        return np.zeros(n, dtype)

    layers = [ReshapeLayer("reshape", (h, w, 1)),
              Conv2DLayer("enc1", kernel(1, f1), zeros(f1), activation="relu", stride=2, padding="same"),
              Conv2DLayer("enc2", kernel(f1, f2), zeros(f2), activation="relu", stride=2, padding="same"),
              FlattenLayer("flatten"),
              Dense("code", W=glorot_uniform(rng, (flat, code), flat, code, dtype), b=zeros(code)),
              Dense("expand", W=glorot_uniform(rng, (code, flat), code, flat, dtype), b=zeros(flat), activation="relu"),
              ReshapeLayer("unflatten", (h2, w2, f2)),
              Conv2DTransposeLayer("dec1", kernel(f1, f2), zeros(f1), activation="relu", stride=2),
              Conv2DTransposeLayer("dec2", kernel(1, f1), zeros(1), activation="sigmoid", stride=2),
              ReshapeLayer("image", (h, w))]
    return Network(layers, loss(), input_shape=(h, w))


# ---- loss: the mean squared error over every pixel of every image
def loss() -> MeanSquaredError:
    return MeanSquaredError()


# ---- optimizer: the recipe, scratch's Adam with lr 1e-3 (the parity ladder's tiny epsilon comes in plan.options;
#      another optimizer the caller names: the shared factory)
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "adam":
        return make_optimizer(plan)
    return Adam(plan.lr, **plan.options)


# ---- training: forward → loss against the images themselves → backward → update over the shared batches
#      (trainer.Run keeps the books: each step's loss and its NaN check, the learning-rate schedule, evaluation)
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


# ---- conversion: none — the scratch layout is the canonical one: enc{i}.W (kh, kw, in, out), dec{i}.W (kh, kw, out,
# in) as Keras's Conv2DTranspose, code.W rows and expand.W columns in (H, W, C) order
