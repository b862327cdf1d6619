"""The L-layer network from scratch, in the NumPy notebook idiom: 30 → 20 → 7 → 5 → 1, ReLU then a sigmoid,
He initialisation, binary cross-entropy, full-batch gradient descent 0.0075.

This file keeps the notebook's own style beside the Operation/Layer idiom of the other scratch models: a
``parameters`` dict W1…WL, b1…bL with W_l of shape (n_l, n_{l−1}) and b_l (n_l, 1); examples as COLUMNS
(A_l is (n_l, m)); caches handed from the forward pass to the backward pass.  :class:`DeepNet` puts the
scratch framework's interface (rows in and out, canonical names) on top of those functions.

Sections, as in torch_impl/deep_net.py and keras_impl/deep_net.py:
data → model → loss → optimizer → training → conversion.
"""
from __future__ import annotations

__all__ = ["breast_cancer_data", "batches", "initialize_parameters_deep", "L_model_forward", "compute_cost",
           "L_model_backward", "DeepNet", "build", "loss", "optimizer", "train"]

import numpy as np

from scratch import trainer
from scratch.init import get_initializer
from scratch.optimizers import SGD, Optimizer, make_optimizer

# ---- data: standardised breast-cancer rows X (N, 30), y (N, 1) in {0, 1} as triptych.data.breast_cancer_data
#      returns them; NumPy rows in the shared sampler's batches (by default one full batch of the 398 training
#      rows), which the functions below take as columns, X_b.T (30, m)
from triptych.data import breast_cancer_data


def batches(X: np.ndarray, y: np.ndarray, plan) -> trainer.Batches:
    return trainer.Batches(X, y, plan)


# ---- model: initialisation, then the forward and backward functions of one layer and of the whole stack
def initialize_parameters_deep(layer_dims, init, rng, dtype) -> dict:
    """W_l drawn by ``init`` with shape (n_l, n_{l−1}) (He normal: N(0, 2 / n_{l−1}), the notebook's
    randn · √(2 / n_{l−1})), b_l = 0 with shape (n_l, 1), for l = 1 … L."""
    parameters = {}
    for l in range(1, len(layer_dims)):
        n_l, n_prev = layer_dims[l], layer_dims[l - 1]
        parameters["W" + str(l)] = init(rng, (n_l, n_prev), n_prev, n_l, dtype)
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1), dtype)
    return parameters


def linear_forward(A, W, b):
    """Z = W A + b:  A (n_{l−1}, m), W (n_l, n_{l−1}), b (n_l, 1) → Z (n_l, m); cache (A, W, b)."""
    Z = W @ A + b
    return Z, (A, W, b)


def relu(Z):
    """A = max(Z, 0); cache Z."""
    return np.maximum(Z, 0), Z


def sigmoid(Z):
    """A = 1 / (1 + e^−Z), the notebook's formula (and torch's); cache Z.  For Z < −709 e^−Z overflows to
    inf and A is 0, as it should be."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-Z)), Z


def linear_activation_forward(A_prev, W, b, activation):
    """A = g(W A_prev + b), g = relu | sigmoid; cache (linear_cache, activation_cache)."""
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, activation_cache = {"relu": relu, "sigmoid": sigmoid}[activation](Z)
    return A, (linear_cache, activation_cache)


def L_model_forward(X, parameters):
    """[LINEAR → RELU] × (L − 1) → LINEAR → SIGMOID.  X (n_0, m) → AL (1, m) and one cache per layer."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def linear_backward(dZ, cache):
    """dW = (1/m) dZ A_prevᵀ,  db = (1/m) Σ_columns dZ,  dA_prev = Wᵀ dZ.

    dZ holds each example's own derivative (not yet divided by m), so 1/m enters here, in the parameter
    gradients, and dA_prev stays per example."""
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    return dA_prev, dW, db


def relu_backward(dA, Z):
    """dZ = dA · [Z > 0]."""
    return dA * (Z > 0)


def sigmoid_backward(dA, Z):
    """dZ = dA · s (1 − s), s = σ(Z)."""
    s, _ = sigmoid(Z)
    return dA * s * (1 - s)


def linear_activation_backward(dA, cache, activation):
    """(dA_prev, dW, db) of one LINEAR → ACTIVATION layer from dA and its cache."""
    linear_cache, activation_cache = cache
    dZ = {"relu": relu_backward, "sigmoid": sigmoid_backward}[activation](dA, activation_cache)
    return linear_backward(dZ, linear_cache)


class DeepNet:
    """The scratch framework's interface over a ``parameters`` dict: rows outside, columns inside.

    forward(X (N, n_0)) → probabilities (N, 1);  loss_and_grads(X, y (N, 1)) → (J, {"W1": dJ/dW1, …},
    dJ/dX (N, n_0));  params() → the parameters dict itself (the live arrays, already canonical)."""

    def __init__(self, parameters: dict, input_shape: tuple):
        self.parameters = parameters
        self.input_shape = input_shape

    def train(self, mode: bool = True) -> "DeepNet":
        return self  # nothing behaves differently in training (no dropout)

    def eval(self) -> "DeepNet":
        return self

    def forward(self, X: np.ndarray) -> np.ndarray:
        AL, _ = L_model_forward(X.T, self.parameters)
        return AL.T

    def forward_loss(self, X: np.ndarray, y: np.ndarray) -> float:
        return compute_cost(self.forward(X).T, y.T)

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray, input_grad: bool = True) -> tuple[float, dict, np.ndarray]:
        """One forward and backward pass; dJ/dX = dA0 / m (dA0 is per example, see linear_backward).
        The notebook's backward always yields dA0, so ``input_grad`` (the trainer's False) changes nothing."""
        AL, caches = L_model_forward(X.T, self.parameters)
        Y = y.T
        grads = L_model_backward(AL, Y, caches)
        return compute_cost(AL, Y), {k: grads["d" + k] for k in self.parameters}, grads["dA0"].T / len(X)

    def params(self) -> dict[str, np.ndarray]:
        return self.parameters

    def summary(self) -> list[tuple[str, str, tuple, int]]:
        """Rows (layer, "LINEAR→RELU" or "LINEAR→SIGMOID", output shape per example, parameter count)."""
        L = len(self.parameters) // 2
        rows = []
        for l in range(1, L + 1):
            W, b = self.parameters["W" + str(l)], self.parameters["b" + str(l)]
            rows.append((f"layer{l}", "LINEAR→" + ("SIGMOID" if l == L else "RELU"), (len(W),), W.size + b.size))
        return rows


def build(config: dict, seed: int, dtype: str) -> DeepNet:
    """layer_dims (30, 20, 7, 5, 1); He-normal weights by default (``config["init"]``), zero biases."""
    layer_dims = (config["in_features"], *config["hidden"], 1)
    rng = np.random.default_rng(seed)
    parameters = initialize_parameters_deep(layer_dims, get_initializer(config["init"]), rng, dtype)
    return DeepNet(parameters, (config["in_features"],))


# ---- loss: binary cross-entropy on AL, unclipped like the notebook's.  Its guards are torch BCELoss's: each log
# floored at −100, and AL (1 − AL) floored at 1e-12 in dAL, so AL = 0 or 1 (rounded) stays finite.  Clipping AL to
# [1e-7, 1 − 1e-7] as the other scratch models do (Keras's clip) would stop the gradient of the training rows the
# recipe drives past 1 − 1e-7, and the 2,500-step trajectory would leave torch's and Keras's by 1.7e-8.
BCE_LOG_FLOOR, BCE_DENOMINATOR_FLOOR = -100.0, 1e-12


def compute_cost(AL, Y):
    """J = −(1/m) Σ [Y log AL + (1 − Y) log(1 − AL)].   AL, Y (1, m)."""
    m = Y.shape[1]
    with np.errstate(divide="ignore"):
        log_AL, log_1_AL = np.log(AL), np.log(1 - AL)
    cost = -np.sum(Y * np.maximum(log_AL, BCE_LOG_FLOOR) + (1 - Y) * np.maximum(log_1_AL, BCE_LOG_FLOOR)) / m
    return float(cost)


def loss():
    """The notebook's cost function, :func:`compute_cost` (J from AL and Y, both (1, m))."""
    return compute_cost


def L_model_backward(AL, Y, caches):
    """The backward pass from dAL = −(Y / AL − (1 − Y) / (1 − AL)) = (AL − Y) / (AL (1 − AL)) (per example)
    through every layer's cache: grads {"dA<l−1>", "dW<l>", "db<l>"}."""
    grads = {}
    L = len(caches)
    dAL = (AL - Y) / np.maximum((1 - AL) * AL, BCE_DENOMINATOR_FLOOR)
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_activation_backward(
        dAL, caches[L - 1], "sigmoid")
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], caches[l], "relu")
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = dA_prev, dW, db
    return grads


# ---- optimizer: the recipe, gradient descent with α = 0.0075: W_l ← W_l − α dW_l, b_l ← b_l − α db_l (the
#      notebook's update_parameters) is the step of scratch's SGD; momentum, Nesterov or weight decay when the
#      caller asks, another optimizer through the shared factory
def optimizer(plan) -> Optimizer:
    if plan.optimizer != "sgd":
        return make_optimizer(plan)
    return SGD(plan.lr, **plan.options)


# ---- training: the notebook's loop over the shared batches, examples as columns: L_model_forward →
#      compute_cost → L_model_backward → the update (trainer.Run keeps the books: each step's cost and its NaN
#      check, the learning-rate schedule, evaluation, keep-best, progress)
def train(network: DeepNet, X: np.ndarray, y: np.ndarray, plan) -> dict:
    data, cost, opt = batches(X, y, plan), loss(), optimizer(plan)
    run = trainer.Run(network, opt, data, plan)
    parameters = network.parameters
    for epoch in run.epochs():
        for X_b, y_b in data.epoch(epoch):
            AL, caches = L_model_forward(X_b.T, parameters)
            run.record(cost(AL, y_b.T))
            grads = L_model_backward(AL, y_b.T, caches)
            opt.step(parameters, {name: grads["d" + name] for name in parameters})
    return run.history


# ---- conversion: none, the parameters dict is the canonical layout (W<l> (n_l, n_{l−1}), b<l> (n_l, 1))
