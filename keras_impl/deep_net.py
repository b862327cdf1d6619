"""The L-layer network in Keras 3: 30 → 20 ReLU → 7 ReLU → 5 ReLU → 1 sigmoid, He initialisation, binary
cross-entropy, full-batch gradient descent 0.0075.

Sections, as in scratch/deep_net.py and torch_impl/deep_net.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

import keras

# ---- data: standardised breast-cancer rows X (N, 30), y (N, 1) in {0, 1}
from triptych.data import breast_cancer_data
from keras_impl import training

__all__ = ["breast_cancer_data", "build", "loss", "train", "canonical_variables", "to_canonical", "from_canonical"]


# ---- model: Sequential Dense layers layer1 … layer<L>; HeNormal kernels (Keras truncates at 2σ), zero biases
def build(config: dict, dtype: str) -> keras.Model:
    dims = (config["in_features"], *config["hidden"], 1)
    L = len(dims) - 1
    init = "glorot_uniform" if config["init"] == "default" else config["init"]
    model = keras.Sequential(name="deep_net")
    model.add(keras.Input(shape=(dims[0],), dtype=dtype))
    for l in range(1, L + 1):
        model.add(keras.layers.Dense(dims[l], activation="relu" if l < L else "sigmoid", kernel_initializer=init,
                                     name=f"layer{l}", dtype=dtype))
    return model


# ---- loss: binary cross-entropy on the probabilities (inside fit Keras uses the sigmoid's logits)
def loss() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy()


# ---- optimizer: keras.optimizers.SGD(learning_rate=0.0075) by default (training.make_optimizer)
# ---- training: model.compile(optimizer, loss) + model.fit; batch_size None = one full batch per epoch
def train(model: keras.Model, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion: the canonical W<l> (n_l, n_{l−1}) is the kernel (in, out) transposed; b<l> is the bias as a
# column (n_l, 1).  keras_impl/framework.py applies to_canonical / from_canonical to weights and gradients.
def canonical_variables(model: keras.Model) -> dict:
    return {name: variable for l, layer in enumerate(model.layers, start=1)
            for name, variable in ((f"W{l}", layer.kernel), (f"b{l}", layer.bias))}


def to_canonical(arrays: dict) -> dict:
    return {k: v.T if k.startswith("W") else v.reshape(-1, 1) for k, v in arrays.items()}


def from_canonical(weights: dict) -> dict:
    return {k: v.T if k.startswith("W") else v.reshape(-1) for k, v in weights.items()}
