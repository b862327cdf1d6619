"""Stacked bidirectional LSTM on MNIST rows from scratch (NumPy): 28 rows × 28 pixels → bidirectional LSTM 64
returning its sequence → bidirectional LSTM 64 → [last forward state, final backward state] → dense 10,
softmax cross-entropy, Adam.

Sections, as in torch_impl/bilstm.py and keras_impl/bilstm.py: data → model → loss → optimizer → training →
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
from scratch.recurrent import BidirectionalLSTMLayer

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them, each image
#      read as 28 time steps of 28 pixels; NumPy rows in the shared sampler's minibatches of 128
from triptych.mnist import load_mnist


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: two bidirectional layers (scratch/recurrent.py: Bidirectional runs one LSTM cell over x_1..x_T and
#      another, with weights of its own, over x_T..x_1, BPTT both ways), the first returning its sequence
#      [h→_t, h←_t] (N, T, 2u), the second its two final states [h→_T, h←_1] (N, 2u) → dense logits.
#      Keras's initialisers per direction: Glorot-uniform input kernel, orthogonal recurrent kernel, bias zero
#      except the forget gate's, which starts at 1
def _lstm_weights(rng: np.random.Generator, n_in: int, u: int, dtype: str) -> tuple:
    bias = np.zeros(4 * u, dtype)
    bias[u:2 * u] = 1.0  # the forget gate (gates i, f, g, o)
    return (glorot_uniform(rng, (n_in, 4 * u), n_in, 4 * u, dtype), orthogonal(rng, (u, 4 * u), u, 4 * u, dtype), bias)


def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    f, u, classes = config["in_features"], config["units"], config["num_classes"]
    layers = [BidirectionalLSTMLayer("lstm1", _lstm_weights(rng, f, u, dtype), _lstm_weights(rng, f, u, dtype),
                                     return_sequences=True),
              BidirectionalLSTMLayer("lstm2", _lstm_weights(rng, 2 * u, u, dtype), _lstm_weights(rng, 2 * u, u, dtype)),
              Dense("output", W=glorot_uniform(rng, (2 * u, classes), 2 * u, classes, dtype),
                    b=np.zeros(classes, dtype))]
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


# ---- training: forward → loss → backward (through time, both directions, both layers) → update over the shared
#      batches (trainer.Run keeps the books: each step's loss and its NaN check, the learning-rate schedule,
#      evaluation, keep-best, progress)
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


# ---- conversion: none — the scratch layout is the canonical one: per layer l and direction d, lstm<l>.<d>.W
# (in, 4u), .U (u, 4u), .b (4u,) with gates i, f, g, o side by side (lstm2's input rows: [forward h_t, backward h_t]);
# output.W (2u, 10) on [h→_T, h←_1], output.b (10,)
