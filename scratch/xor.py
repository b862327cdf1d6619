"""XOR from scratch (NumPy): 2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1.

Sections, as in torch_impl/xor.py and keras_impl/xor.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["xor_data", "build", "loss", "train"]

import numpy as np

from scratch import trainer
from scratch.init import get_initializer
from scratch.layers import Dense
from scratch.losses import BinaryCrossEntropy
from scratch.network import Network
from scratch.optimizers import make_optimizer

# ---- data: the four XOR points, X (4, 2) float, y (4, 1) in {0, 1}; the network takes them as they are
from triptych.data import xor_data


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


# ---- optimizer: plan.optimizer, by default plain SGD, lr 0.1 (scratch/optimizers.py)
# ---- training: the shared trainer over the shared batches (batch 1 by default)
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)


# ---- conversion: none — the scratch layout is the canonical one: hidden{i}.W (in, out), hidden{i}.b (out,),
# output.W (in, 1), output.b (1,), returned by Network.params() as they are
