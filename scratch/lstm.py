"""LSTM on MNIST rows from scratch (NumPy): 28 rows × 28 pixels → LSTM 64 → dense 10 on the last hidden
state, softmax cross-entropy, Adam.

Sections, as in torch_impl/lstm.py and keras_impl/lstm.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.init import glorot_uniform, orthogonal
from scratch.layers import Dense
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import Adam, Optimizer, make_optimizer
from scratch.recurrent import LSTMLayer

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them, each image
#      read as 28 time steps of 28 pixels; NumPy rows in the shared sampler's minibatches of 128
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: LSTM (gates i, f, g, o, step by step: scratch/recurrent.py), last hidden state → dense logits.
#      Keras's initialisers: Glorot-uniform input kernel, orthogonal recurrent kernel, bias zero except the
#      forget gate's, which starts at 1
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    f, u, classes = config["in_features"], config["units"], config["num_classes"]
    bias = np.zeros(4 * u, dtype)
    bias[u:2 * u] = 1.0  # the forget gate (gates i, f, g, o)
    layers = [LSTMLayer("lstm", W=glorot_uniform(rng, (f, 4 * u), f, 4 * u, dtype),
                        U=orthogonal(rng, (u, 4 * u), u, 4 * u, dtype), b=bias),
              Dense("output", W=glorot_uniform(rng, (u, classes), u, classes, dtype), b=np.zeros(classes, dtype))]
    return Network(layers, loss(), input_shape=(28, f))


# ---- loss: softmax cross-entropy on the logits
def loss() -> SoftmaxCrossEntropy:
    return SoftmaxCrossEntropy()


# ---- optimizer: the recipe, scratch's Adam with lr 1e-3 (the parity ladder's tiny epsilon comes in plan.options;
#      another optimizer the caller names: the shared factory)
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "adam":
        return make_optimizer(plan)
    return Adam(plan.lr, **plan.options)


# ---- training: forward → loss → backward (through time) → update over the shared batches (trainer.Run keeps
#      the books: each step's loss and its NaN check, the learning-rate schedule, evaluation, keep-best, progress)
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


# ---- conversion: none — the scratch layout is the canonical one: lstm.W (F, 4u), lstm.U (u, 4u), lstm.b (4u,)
# with gates i, f, g, o side by side; output.W (u, 10), output.b (10,)
