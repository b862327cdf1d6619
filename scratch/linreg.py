"""Linear regression from scratch (NumPy): y = X·w + b, mean squared error (+ λ/2·‖w‖² with l2 = λ), SGD.

Sections, as in torch_impl/linreg.py and keras_impl/linreg.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["linreg_data", "build", "loss", "train"]

import numpy as np

from scratch import trainer
from scratch.init import get_initializer
from scratch.layers import Dense
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import make_optimizer

# ---- data: X (N, F), y (N, 1); by default 1000 × 2 synthetic points, w = [2, −3.4], b = 4.2, noise σ 0.01
from triptych.data import linreg_data


# ---- model: one Dense unit with no activation; W (F, 1) Glorot-uniform (or zeros), b = 0
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    init = get_initializer(config["init"])
    n_in = config["in_features"]
    layer = Dense("linear", W=init(rng, (n_in, 1), n_in, 1, dtype), b=np.zeros(1, dtype), activation="linear")
    return Network([layer], loss(), input_shape=(n_in,), l2={"linear.W": config["l2"]})


# ---- loss: mean squared error, plus d2l's weight decay written into the loss: λ/2·‖w‖² (b is not penalised; Network(l2=…))
def loss() -> MeanSquaredError:
    return MeanSquaredError()


# ---- optimizer: plan.optimizer, by default plain SGD, lr 0.03 (scratch/optimizers.py)
# ---- training: the shared trainer; minibatches of 10 from the shared sampler, or full batch (None)
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)


# ---- conversion: none — the scratch layout is the canonical one: linear.W (F, 1), linear.b (1,)
