"""recurrent_family in Keras 3: (T, F) → stacked SimpleRNN / GRU / LSTM → last hidden state → Dense
logits, softmax cross-entropy.

Sections, as in scratch/recurrent_family.py and torch_impl/recurrent_family.py.
"""
from __future__ import annotations

import keras

from keras_impl import training

CELLS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
OPTIONS = {"rnn": {}, "gru": dict(reset_after=True, use_cudnn=False), "lstm": dict(use_cudnn=False)}

# ---- data: random sequences (N, T, F) and labels (N,) (parity_tests.families.synthetic_source) → the stream
#      fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential; every recurrent layer but the last returns its sequences.  OPTIONS: the GRU with
# reset_after=True (Keras's default, spelled out: the reset acts after the recurrent matmul, as in torch);
# use_cudnn=False: the generic kernel, so CPU and GPU agree
def build(config: dict, dtype: str) -> keras.Model:
    cell, units = config["cell"], config["units"]
    model = keras.Sequential(name="recurrent_family")
    model.add(keras.Input(shape=(config["seq_len"], config["in_features"]), dtype=dtype))
    for i, u in enumerate(units, start=1):
        model.add(CELLS[cell](u, return_sequences=i < len(units), **OPTIONS[cell], name=f"{cell}{i}", dtype=dtype))
    model.add(keras.layers.Dense(config["num_classes"], name="output", dtype=dtype))
    return model


# ---- loss: softmax cross-entropy on the logits
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: keras.optimizers.SGD / Adam, whichever the plan names (the shared factory picks)
def optimizer(plan) -> keras.optimizers.Optimizer:
    return training.make_optimizer(plan)


# ---- training: compile, then fit over the shared batches
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: kernel (in, k·u), recurrent kernel (u, k·u) and bias ((k·u,), the GRU's (2, k·u)), gate
# blocks side by side in the canonical order: the canonical layout as is
def canonical_variables(model: keras.Model) -> dict:
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            out.update({"output.W": layer.kernel, "output.b": layer.bias})
        else:
            cell = layer.cell
            out.update({f"{layer.name}.W": cell.kernel, f"{layer.name}.U": cell.recurrent_kernel,
                        f"{layer.name}.b": cell.bias})
    return out
