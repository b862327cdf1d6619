"""recurrent_family from scratch (NumPy): (T, F) → stacked simple RNN / GRU / LSTM layers → last hidden
state → dense logits, softmax cross-entropy.

Sections, as in torch_impl/recurrent_family.py and keras_impl/recurrent_family.py.
"""
from __future__ import annotations

import numpy as np

from scratch import trainer
from scratch.init import glorot_uniform, orthogonal
from scratch.layers import Dense
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import make_optimizer
from scratch.recurrent import GRULayer, LSTMLayer, RNNLayer

# ---- data: random sequences (N, T, F) and labels (N,) (parity_tests.families.synthetic_source)


# ---- model: every layer but the last returns its whole sequence.  Keras's initialisers: Glorot-uniform
# input kernel, orthogonal recurrent kernel, zero biases but 1 on the LSTM's forget gate
def initial_bias(cell: str, u: int, dtype: str) -> np.ndarray:
    if cell == "gru":
        return np.zeros((2, 3 * u), dtype)  # input and recurrent bias, blocks z, r, h
    bias = np.zeros((4 if cell == "lstm" else 1) * u, dtype)
    if cell == "lstm":
        bias[u:2 * u] = 1.0  # gates i, f, g, o
    return bias


LAYERS = {"rnn": (RNNLayer, 1), "gru": (GRULayer, 3), "lstm": (LSTMLayer, 4)}  # layer, gate blocks


def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    cell, units = config["cell"], config["units"]
    (layer, k), sizes = LAYERS[cell], (config["in_features"], *units)
    layers = [layer(f"{cell}{i}", W=glorot_uniform(rng, (n_in, k * u), n_in, k * u, dtype),
                    U=orthogonal(rng, (u, k * u), u, k * u, dtype), b=initial_bias(cell, u, dtype),
                    return_sequences=i < len(units))
              for i, (n_in, u) in enumerate(zip(sizes[:-1], sizes[1:]), start=1)]
    n_in, n_out = sizes[-1], config["num_classes"]
    layers.append(Dense("output", W=glorot_uniform(rng, (n_in, n_out), n_in, n_out, dtype), b=np.zeros(n_out, dtype)))
    # ---- loss: softmax cross-entropy on the logits
    return Network(layers, SoftmaxCrossEntropy(), input_shape=(config["seq_len"], config["in_features"]))


# ---- optimizer: plan.optimizer with plan.options (scratch/optimizers.py)
# ---- training: the shared trainer over the shared batches
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)

# ---- conversion: none; the scratch parameters are the canonical layout ({cell}{i}.W (in, k·u), …)
