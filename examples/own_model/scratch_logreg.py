"""Logistic regression from scratch (NumPy): p = σ(X·W + b), binary cross-entropy, SGD."""
from __future__ import annotations

import numpy as np

from scratch import trainer
from scratch.init import glorot_uniform
from scratch.layers import Dense
from scratch.losses import BinaryCrossEntropy
from scratch.network import Network
from scratch.optimizers import make_optimizer


# ---- data: X (N, 30) standardised, y (N, 1) in {0, 1} (the declaration's loader)
# ---- model: one Dense unit with a sigmoid; W Glorot-uniform, b = 0
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    f = config["in_features"]
    layer = Dense("logit", W=glorot_uniform(rng, (f, 1), f, 1, dtype), b=np.zeros(1, dtype), activation="sigmoid")
    # ---- loss: binary cross-entropy on the probabilities (clipped to [1e-7, 1 − 1e-7], as Keras)
    return Network([layer], BinaryCrossEntropy(), input_shape=(f,))


# ---- optimizer: scratch's SGD (plan.optimizer)
# ---- training: the shared trainer over the shared batches
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)


# ---- conversion: none — the scratch parameters ``logit.W`` (F, 1) and ``logit.b`` are the canonical layout
