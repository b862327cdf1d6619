"""dense_family from scratch (NumPy): F → [Dense(width, activation)] × depth → Dense(1), MSE.

Sections, as in torch_impl/dense_family.py and keras_impl/dense_family.py.
"""
from __future__ import annotations

import numpy as np

from scratch import trainer
from scratch.init import glorot_uniform
from scratch.layers import Dense
from scratch.losses import MeanSquaredError
from scratch.network import Network
from scratch.optimizers import make_optimizer

# ---- data: random X (N, F) and targets (N, 1) (parity_tests.families.synthetic_source)


# ---- model: Dense layers with Glorot-uniform kernels and zero biases (as Keras)
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    hidden = config["hidden"]
    sizes = (config["in_features"], *(h.width for h in hidden), 1)
    layers = [Dense("output" if i == len(hidden) + 1 else f"hidden{i}",
                    W=glorot_uniform(rng, (n_in, n_out), n_in, n_out, dtype), b=np.zeros(n_out, dtype),
                    activation="linear" if i == len(hidden) + 1 else hidden[i - 1].activation)
              for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1)]
    # ---- loss: mean squared error
    return Network(layers, MeanSquaredError(), input_shape=(config["in_features"],))


# ---- optimizer: plan.optimizer with plan.options (scratch/optimizers.py)
# ---- training: the shared trainer over the shared batches
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)

# ---- conversion: none; the scratch parameters are the canonical layout (hidden{i}.W (in, out), …)
