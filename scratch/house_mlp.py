"""House-price MLP from scratch (NumPy): 13 → 13 sigmoid → 13 sigmoid → 1, MSE, SGD 0.01.

Sections, as in torch_impl/house_mlp.py and keras_impl/house_mlp.py: data → model → loss → optimizer →
training → conversion.
"""
from __future__ import annotations

__all__ = ["boston_data", "build", "loss", "train"]

import numpy as np

from scratch import trainer
from scratch.init import get_initializer
from scratch.layers import Dense, DropoutLayer
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import make_optimizer

# ---- data: Boston housing standardised with training-set statistics, X (N, 13), y (N, 1) in $1000s
from triptych.data import boston_data


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


# ---- optimizer: plan.optimizer, by default plain SGD, lr 0.01 (momentum, Nesterov, Adam, weight decay on request)
# ---- training: the shared trainer; batch 32, evaluation every 10 epochs, best weights kept
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)


# ---- conversion: none — the scratch layout is the canonical one: hidden{i}.W (in, out), hidden{i}.b (out,),
# output.W (in, 1), output.b (1,)
