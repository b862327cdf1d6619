"""A small transformer encoder on MNIST rows in Keras 3: 28 rows as 28 tokens → Dense 28→64 + an Embedding of the
positions → 2 post-norm encoder blocks (MultiHeadAttention 4 heads, feed-forward 128 with exact GELU, dropout 0.1,
residual + LayerNormalization after each) → GlobalAveragePooling1D → LayerNormalization → Dense 10, softmax
cross-entropy, Adam.

Sections, as in scratch/transformer.py and torch_impl/transformer.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "AddPositions", "gelu", "build", "loss", "optimizer", "train", "canonical_variables",
           "to_canonical", "from_canonical"]

import math

import keras
import numpy as np

from keras_impl import training
from keras_impl.layer_kinds import attention_to_canonical


# ---- data: images (N, 28, 28) in [0, 1] as triptych.mnist.load_mnist returns them, 28 tokens of 28 pixels,
#      labels (N,) 0..9 → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: functional; the blocks post-norm as torch's TransformerEncoderLayer(norm_first=False).
#      LayerNormalization's epsilon set to the declared 1e-5 (torch's; Keras's default is 1e-3); the GELU exact,
#      x·Φ(x) through erf (keras.ops.gelu defaults to the tanh approximation, ≈ 5e-4 away, and TensorFlow's own exact
#      GELU is ≈ 5e-9 off in float64); the key projection's bias frozen at zero (softmax ignores it)
@keras.saving.register_keras_serializable(package="triptych")
class AddPositions(keras.layers.Layer):
    """x (N, T, d) → x + E[0…T−1], E a learned Embedding(max_len, d)."""

    def __init__(self, max_len: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.max_len, self.width = max_len, width
        self.embedding = keras.layers.Embedding(max_len, width, name="embedding", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.embedding.build((None,))

    def call(self, x):
        return x + self.embedding(keras.ops.arange(keras.ops.shape(x)[1]))

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len, "width": self.width}


def gelu(x):
    """Exact GELU: x · ½ (1 + erf(x / √2))."""
    return 0.5 * x * (1.0 + keras.ops.erf(x / math.sqrt(2.0)))


def build(config: dict, dtype: str) -> keras.Model:
    d, heads, rate, eps = config["d_model"], config["heads"], config["dropout"], config["norm_epsilon"]
    x = inputs = keras.Input(shape=(None, config["in_features"]), dtype=dtype)
    x = keras.layers.Dense(d, name="embed", dtype=dtype)(x)
    x = AddPositions(config["max_len"], d, name="position", dtype=dtype)(x)
    for b in range(1, config["blocks"] + 1):
        attention = keras.layers.MultiHeadAttention(heads, d // heads, dropout=rate, name=f"block{b}_attention",
                                                    dtype=dtype)
        # return_attention_scores keeps Keras on its einsum path: without dropout it would otherwise call the backend's
        # dot_product_attention, which on JAX computes the scores in float32 (3e-8 off in a float64 model)
        a, _ = attention(x, x, return_attention_scores=True)
        a = keras.layers.Dropout(rate, dtype=dtype)(a)
        x = keras.layers.LayerNormalization(epsilon=eps, name=f"block{b}_norm1", dtype=dtype)(x + a)
        f = keras.layers.Dense(config["ff_units"], activation=gelu, name=f"block{b}_ff1", dtype=dtype)(x)
        f = keras.layers.Dropout(rate, dtype=dtype)(f)
        f = keras.layers.Dropout(rate, dtype=dtype)(keras.layers.Dense(d, name=f"block{b}_ff2", dtype=dtype)(f))
        x = keras.layers.LayerNormalization(epsilon=eps, name=f"block{b}_norm2", dtype=dtype)(x + f)
        attention._key_dense.bias.trainable = False  # softmax ignores the key bias: held at zero
        attention._key_dense.bias.held_at_zero = True  # and not counted as a parameter (summary)
    x = keras.layers.GlobalAveragePooling1D(dtype=dtype)(x)
    x = keras.layers.LayerNormalization(epsilon=eps, name="norm", dtype=dtype)(x)
    return keras.Model(inputs, keras.layers.Dense(config["num_classes"], name="output", dtype=dtype)(x),
                       name="transformer")


# ---- loss: softmax cross-entropy on the logits
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: the recipe, keras.optimizers.Adam with learning rate 1e-3 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.Adam(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 128, dropout on
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: MultiHeadAttention's query/key/value kernels (d, h, k) and biases (h, k) reshape to the canonical
# (d, d) and (d,) (head j's columns [j·k, (j+1)·k)); its output kernel (h, k, d) to (d, d); the key bias is not
# canonical (held at zero); Dense, Embedding and LayerNormalization as they are
def canonical_variables(model: keras.Model) -> dict:
    out = {"embed.W": model.get_layer("embed").kernel, "embed.b": model.get_layer("embed").bias,
           "position.E": model.get_layer("position").embedding.embeddings}
    blocks = sum(1 for layer in model.layers if layer.name.endswith("_attention"))
    for b in range(1, blocks + 1):
        mha, a = model.get_layer(f"block{b}_attention"), f"block{b}.attention"
        out.update({f"{a}.query.W": mha._query_dense.kernel, f"{a}.query.b": mha._query_dense.bias,
                    f"{a}.key.W": mha._key_dense.kernel, f"{a}.value.W": mha._value_dense.kernel,
                    f"{a}.value.b": mha._value_dense.bias, f"{a}.out.W": mha._output_dense.kernel,
                    f"{a}.out.b": mha._output_dense.bias})
        for name in ("norm1", "ff1", "ff2", "norm2"):
            layer = model.get_layer(f"block{b}_{name}")
            out.update({f"block{b}.{name}.gamma": layer.gamma, f"block{b}.{name}.beta": layer.beta} if "norm" in name
                       else {f"block{b}.{name}.W": layer.kernel, f"block{b}.{name}.b": layer.bias})
    norm, dense = model.get_layer("norm"), model.get_layer("output")
    return {**out, "norm.gamma": norm.gamma, "norm.beta": norm.beta, "output.W": dense.kernel, "output.b": dense.bias}


def to_canonical(arrays: dict) -> dict:
    """Keras-shaped arrays → canonical: each attention array by keras_impl.layer_kinds.attention_to_canonical."""
    return {key: attention_to_canonical(key, value) if ".attention." in key else value for key, value in arrays.items()}


def from_canonical(weights: dict, shapes: dict) -> dict:
    """The inverse of :func:`to_canonical`: each array reshaped to its variable's shape (the head count is not in the
    canonical (d, d), so it comes from the variables)."""
    return {key: np.reshape(value, shapes[key]) if key in shapes else value for key, value in weights.items()}
