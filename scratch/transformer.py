"""A small transformer encoder on MNIST rows from scratch (NumPy): 28 rows as 28 tokens of 28 pixels → dense
28→64 + learned position embedding → 2 post-norm encoder blocks (4-head self-attention, feed-forward 64→128→64
with exact GELU, dropout 0.1) → mean over tokens → LayerNorm → dense 10, softmax cross-entropy, Adam.

Sections, as in torch_impl/transformer.py and keras_impl/transformer.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.attention import EncoderBlock, LayerNorm, MeanTokens, PositionEmbedding, TokenDense
from scratch.init import glorot_uniform
from scratch.layers import Dense, Layer
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import Adam, Optimizer, make_optimizer

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them, each image
#      28 tokens (its rows) of 28 pixels; NumPy rows in the shared sampler's minibatches of 128
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: embed each row, add its position's row of the table, two encoder blocks (scratch/attention.py:
#      attention, LayerNorm, GELU and their backward passes), mean over tokens, LayerNorm, dense logits.
#      Keras's initialisers: Glorot-uniform kernels, zero biases, position table uniform ±0.05, LayerNorm γ = 1, β = 0
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    f, d, ff, classes = config["in_features"], config["d_model"], config["ff_units"], config["num_classes"]

    def kernel(n_in, n_out):
        return glorot_uniform(rng, (n_in, n_out), n_in, n_out, dtype)

    def block(b):
        weights = {}
        for part in ("query", "key", "value", "out"):  # no key bias (softmax ignores it)
            weights[f"attention.{part}.W"] = kernel(d, d)
            if part != "key":
                weights[f"attention.{part}.b"] = np.zeros(d, dtype)
        weights.update({"ff1.W": kernel(d, ff), "ff1.b": np.zeros(ff, dtype), "ff2.W": kernel(ff, d),
                        "ff2.b": np.zeros(d, dtype)})
        for norm in ("norm1", "norm2"):
            weights.update({f"{norm}.gamma": np.ones(d, dtype), f"{norm}.beta": np.zeros(d, dtype)})
        return EncoderBlock(f"block{b}", weights, config["heads"], config["dropout"], config["norm_epsilon"], rng)

    layers = [TokenDense("embed", kernel(f, d), np.zeros(d, dtype)),
              Layer("position", [PositionEmbedding(rng.uniform(-0.05, 0.05, (config["max_len"], d)).astype(dtype))]),
              *(block(b) for b in range(1, config["blocks"] + 1)),
              Layer("mean", [MeanTokens()]),
              Layer("norm", [LayerNorm(np.ones(d, dtype), np.zeros(d, dtype), config["norm_epsilon"])]),
              Dense("output", W=kernel(d, classes), b=np.zeros(classes, dtype))]
    return Network(layers, loss(), input_shape=(config["max_len"], f))


# ---- loss: softmax cross-entropy on the logits
def loss() -> SoftmaxCrossEntropy:
    return SoftmaxCrossEntropy()


# ---- optimizer: the recipe, scratch's Adam with lr 1e-3 (the parity ladder's tiny epsilon comes in plan.options;
#      another optimizer the caller names: the shared factory)
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "adam":
        return make_optimizer(plan)
    return Adam(plan.lr, **plan.options)


# ---- training: forward → loss → backward (through both residual paths of every block) → update over the shared
#      batches, dropout on (trainer.Run keeps the books: each step's loss and its NaN check, the learning-rate
#      schedule, evaluation, keep-best, progress)
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


# ---- conversion: none — the scratch layout is the canonical one: embed.W (28, d), position.E (max_len, d), per block
# attention.{query,key,value,out}.W (d, d) with the heads' columns side by side (no key bias), norm1/norm2 γ, β,
# ff1.W (d, 128), ff2.W (128, d); norm γ, β; output.W (d, 10)
