"""House-price MLP from scratch (NumPy): 13 → 13 sigmoid → 13 sigmoid → 1, MSE, SGD 0.01.

Sections, as in torch_impl/house_mlp.py and keras_impl/house_mlp.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["boston_data", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.init import get_initializer
from scratch.layers import Dense, DropoutLayer
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import SGD, Optimizer, make_optimizer

# ---- data: Boston housing as triptych.data.boston_data returns it, standardised with training-set statistics,
#      X (N, 13), y (N, 1) in $1000s; NumPy rows in the shared sampler's minibatches of 32
from triptych.data import boston_data


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: Dense(13, sigmoid) per entry of config["hidden"] (dropout after each if > 0), Dense(1)
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    init = get_initializer(config["init"])
    sizes = (config["in_features"], *config["hidden"])
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append(Dense(f"hidden{i}", W=init(rng, (n_in, n_out), n_in, n_out, dtype), b=np.zeros(n_out, dtype),
                            activation=config["activation"]))
        if config["dropout"]:
            layers.append(DropoutLayer(f"dropout{i}", config["dropout"], rng))
    n_in = sizes[-1]
    layers.append(Dense("output", W=init(rng, (n_in, 1), n_in, 1, dtype), b=np.zeros(1, dtype)))
    return Network(layers, loss(), input_shape=(config["in_features"],))


# ---- loss: mean squared error
def loss() -> MeanSquaredError:
    return MeanSquaredError()


# ---- optimizer: the recipe, scratch's SGD with lr 0.01; momentum, Nesterov, Adam or weight decay when the
#      caller asks (another optimizer: the shared factory)
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "sgd":
        return make_optimizer(plan)
    return SGD(plan.lr, **plan.options)


# ---- training: forward → loss → backward → update over the shared batches (trainer.Run keeps the books:
#      each step's loss and its NaN check, evaluation every 10 epochs, the best weights kept, progress)
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


# ---- conversion: none — the scratch layout is the canonical one: hidden{i}.W (in, out), hidden{i}.b (out,),
# output.W (in, 1), output.b (1,)
