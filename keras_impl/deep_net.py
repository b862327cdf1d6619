"""The L-layer network in Keras 3: 30 → 20 ReLU → 7 ReLU → 5 ReLU → 1 sigmoid, He initialisation, binary
cross-entropy, full-batch gradient descent 0.0075.

Sections, as in scratch/deep_net.py and torch_impl/deep_net.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables", "to_canonical", "from_canonical"]

import keras

from keras_impl import training


# ---- data: standardised breast-cancer rows X (N, 30), y (N, 1) in {0, 1} as triptych.data.breast_cancer_data
#      returns them → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


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


# ---- optimizer: the recipe, full-batch gradient descent, keras.optimizers.SGD with learning rate
#      0.0075 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "sgd":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.SGD(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches (batch_size None: one full batch per epoch)
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: the canonical W<l> (n_l, n_{l−1}) is the kernel (in, out) transposed; b<l> is the bias as a
# column (n_l, 1).  keras_impl/framework.py applies to_canonical / from_canonical to weights and gradients.
def canonical_variables(model: keras.Model) -> dict:
    return {name: variable for l, layer in enumerate(model.layers, start=1)
            for name, variable in ((f"W{l}", layer.kernel), (f"b{l}", layer.bias))}


def to_canonical(arrays: dict) -> dict:
    return {k: v.T if k.startswith("W") else v.reshape(-1, 1) for k, v in arrays.items()}


def from_canonical(weights: dict) -> dict:
    return {k: v.T if k.startswith("W") else v.reshape(-1) for k, v in weights.items()}
