"""XOR from scratch (NumPy): 2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1.

Sections, as in torch_impl/xor.py and keras_impl/xor.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["xor_data", "batches", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.init import get_initializer
from scratch.layers import Dense
from scratch.losses import BinaryCrossEntropy
from scratch.network import Network
from scratch.optimizers import SGD, Optimizer, make_optimizer

# ---- data: the four XOR points as triptych.data.xor_data returns them, X (4, 2) float, y (4, 1) in {0, 1};
#      the network takes NumPy rows as they are, in the shared sampler's minibatches (batch 1 by default)
from triptych.data import xor_data


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: hidden Dense layers with tanh, then one sigmoid unit; weights Glorot-uniform, biases zero
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    init = get_initializer(config["init"])
    sizes = (config["in_features"], *config["hidden"], 1)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        last = i == len(sizes) - 1
        layers.append(Dense("output" if last else f"hidden{i}",
                            W=init(rng, (n_in, n_out), n_in, n_out, dtype), b=np.zeros(n_out, dtype),
                            activation="sigmoid" if last else config["activation"]))
    return Network(layers, loss(), input_shape=(config["in_features"],))


# ---- loss: binary cross-entropy on the sigmoid probabilities (clipped to [1e-7, 1 − 1e-7], as Keras)
def loss() -> BinaryCrossEntropy:
    return BinaryCrossEntropy()


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


# ---- conversion: none — the scratch layout is the canonical one: hidden{i}.W (in, out), hidden{i}.b (out,),
# output.W (in, 1), output.b (1,), returned by Network.params() as they are
