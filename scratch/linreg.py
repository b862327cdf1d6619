"""Linear regression from scratch (NumPy): y = X·w + b, mean squared error (+ λ/2·‖w‖² with l2 = λ), SGD.

Sections, as in torch_impl/linreg.py and keras_impl/linreg.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["linreg_data", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.init import get_initializer
from scratch.layers import Dense
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import SGD, Optimizer, make_optimizer

# ---- data: X (N, F), y (N, 1) as triptych.data.linreg_data returns them (by default 1000 × 2 synthetic
#      points, w = [2, −3.4], b = 4.2, noise σ 0.01), or any (X, y); NumPy rows in the shared sampler's
#      minibatches of 10, or one full batch (None)
from triptych.data import linreg_data


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: one Dense unit with no activation; W (F, 1) Glorot-uniform (or zeros), b = 0
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    init = get_initializer(config["init"])
    n_in = config["in_features"]
    layer = Dense("linear", W=init(rng, (n_in, 1), n_in, 1, dtype), b=np.zeros(1, dtype), activation="linear")
    return Network([layer], loss(), input_shape=(n_in,), l2={"linear.W": config["l2"]})


# ---- loss: mean squared error, plus d2l's weight decay written into the loss: λ/2·‖w‖² (b is not penalised;
#      Network(l2=…) adds the term, network.penalty(), and its gradient λ·w, in network.grads())
def loss() -> MeanSquaredError:
    return MeanSquaredError()


# ---- optimizer: the recipe, scratch's SGD with lr 0.03 (another optimizer the caller names: the shared factory)
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "sgd":
        return make_optimizer(plan)
    return SGD(plan.lr, **plan.options)


# ---- training: forward → loss (+ the L2 term) → backward → update over the shared batches (trainer.Run keeps
#      the books: each step's loss and its NaN check, the learning-rate schedule, evaluation, keep-best, progress)
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    data, opt = batches(X, y, plan), optimizer(plan)
    run = trainer.Run(network, opt, data, plan)
    for epoch in run.epochs():
        network.train()
        for X_b, y_b in data.epoch(epoch):
            batch_loss = network.loss.forward(network.forward(X_b), y_b) + network.penalty()
            run.record(batch_loss)
            network.backward(network.loss.backward(), input_grad=False)
            opt.step(network.params(), network.grads())
    return run.history


# ---- conversion: none — the scratch layout is the canonical one: linear.W (F, 1), linear.b (1,)
