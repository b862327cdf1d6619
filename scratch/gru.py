"""GRU on MNIST rows from scratch (NumPy): 28 rows × 28 pixels → GRU 64 → dense 10 on the last hidden
state, softmax cross-entropy, Adam.

Sections, as in torch_impl/gru.py and keras_impl/gru.py: data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import numpy as np

from scratch import trainer
from scratch.init import glorot_uniform, orthogonal
from scratch.layers import Dense
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import make_optimizer
from scratch.recurrent import GRULayer

# ---- data: triptych.mnist.load_mnist, images (N, 28, 28) in [0, 1] read as 28 steps of 28 pixels
from triptych.mnist import load_mnist

__all__ = ["load_mnist", "build", "train"]


# ---- model: GRU (gates z, r, h; reset after the recurrent matmul, scratch/recurrent.py), last state →
# dense logits.  Keras's initialisers: Glorot-uniform input kernel, orthogonal recurrent kernel, zero biases
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    f, u, classes = config["in_features"], config["units"], config["num_classes"]
    layers = [GRULayer("gru", W=glorot_uniform(rng, (f, 3 * u), f, 3 * u, dtype),
                       U=orthogonal(rng, (u, 3 * u), u, 3 * u, dtype), b=np.zeros((2, 3 * u), dtype)),
              Dense("output", W=glorot_uniform(rng, (u, classes), u, classes, dtype), b=np.zeros(classes, dtype))]
    # ---- loss: softmax cross-entropy on the logits
    return Network(layers, SoftmaxCrossEntropy(), input_shape=(28, f))


# ---- optimizer: plan.optimizer, by default Adam lr 1e-3 (scratch/optimizers.py)
# ---- training: the shared trainer over the shared batches of 128
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)

# ---- conversion: none; the scratch layout is the canonical one (gru.W (F, 3u), gru.U (u, 3u), gru.b (2, 3u),
# gate blocks z, r, h; row 0 of b the input bias, row 1 the recurrent bias)
