"""LSTM on MNIST rows from scratch (NumPy): 28 rows × 28 pixels → LSTM 64 → dense 10 on the last hidden
state, softmax cross-entropy, Adam.

Sections, as in torch_impl/lstm.py and keras_impl/lstm.py: data → model → loss → optimizer → training.
"""
from __future__ import annotations

import numpy as np

from triptych.mnist import load_mnist  # data: images (N, 28, 28) in [0, 1] read as 28 steps of 28 pixels
from scratch import trainer
from scratch.init import glorot_uniform, orthogonal
from scratch.layers import Dense
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import make_optimizer
from scratch.recurrent import LSTMLayer

__all__ = ["load_mnist", "build", "train"]


# ---- model: LSTM (last hidden state) → dense logits.  Keras's initialisers: Glorot-uniform input
# kernel, orthogonal recurrent kernel, bias zero except the forget gate's, which starts at 1
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    f, u, classes = config["in_features"], config["units"], config["num_classes"]
    bias = np.zeros(4 * u, dtype)
    bias[u:2 * u] = 1.0  # the forget gate (gates i, f, g, o)
    layers = [LSTMLayer("lstm", W=glorot_uniform(rng, (f, 4 * u), f, 4 * u, dtype),
                        U=orthogonal(rng, (u, 4 * u), u, 4 * u, dtype), b=bias),
              Dense("output", W=glorot_uniform(rng, (u, classes), u, classes, dtype), b=np.zeros(classes, dtype))]
    # ---- loss: softmax cross-entropy on the logits
    return Network(layers, SoftmaxCrossEntropy(), input_shape=(28, f))


# ---- optimizer: plan.optimizer, by default Adam lr 1e-3 (scratch/optimizers.py)
# ---- training: the shared trainer over the shared batches of 128
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)
