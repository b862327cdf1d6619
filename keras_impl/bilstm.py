"""Stacked bidirectional LSTM on MNIST rows in Keras 3: 28 rows × 28 pixels → Bidirectional(LSTM 64, sequences) →
Bidirectional(LSTM 64) → [last forward state, final backward state] → dense 10, softmax cross-entropy, Adam.

Sections, as in scratch/bilstm.py and torch_impl/bilstm.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training


# ---- data: images (N, 28, 28) in [0, 1] as triptych.mnist.load_mnist returns them, read as 28 time steps of
#      28 pixels, labels (N,) 0..9 → the stream fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential Bidirectional(LSTM) ×2 → Dense logits.  Bidirectional runs a go_backwards copy of the LSTM
#      (its own weights) and, for the first layer's sequence, flips that copy's output back into time order before
#      concatenating [forward, backward] per step (merge_mode="concat"); the second layer returns each copy's final
#      state, the backward one after x_1.  use_cudnn=False: the generic kernel, so CPU and GPU agree
def build(config: dict, dtype: str) -> keras.Model:
    u = config["units"]
    return keras.Sequential([
        keras.Input(shape=(None, config["in_features"]), dtype=dtype),
        keras.layers.Bidirectional(keras.layers.LSTM(u, return_sequences=True, use_cudnn=False, dtype=dtype),
                                   merge_mode="concat", name="lstm1", dtype=dtype),
        keras.layers.Bidirectional(keras.layers.LSTM(u, use_cudnn=False, dtype=dtype), merge_mode="concat",
                                   name="lstm2", dtype=dtype),
        keras.layers.Dense(config["num_classes"], name="output", dtype=dtype),
    ], name="bilstm")


# ---- loss: softmax cross-entropy on the logits
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: the recipe, keras.optimizers.Adam with learning rate 1e-3 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.Adam(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 128
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: each direction's LSTM (Bidirectional's forward_layer, and backward_layer, the go_backwards copy)
# holds kernel (in, 4u), recurrent kernel (u, 4u) and bias (4u,), gates i, f, c, o: the canonical layout as it is;
# only the names differ
def canonical_variables(model: keras.Model) -> dict:
    out = {}
    for name in ("lstm1", "lstm2"):
        layer = model.get_layer(name)
        for side, lstm in (("forward", layer.forward_layer), ("backward", layer.backward_layer)):
            cell = lstm.cell
            out.update({f"{name}.{side}.W": cell.kernel, f"{name}.{side}.U": cell.recurrent_kernel,
                        f"{name}.{side}.b": cell.bias})
    dense = model.get_layer("output")
    return {**out, "output.W": dense.kernel, "output.b": dense.bias}
