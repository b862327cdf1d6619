"""conv_family in Keras 3: (H, W, C) → [Conv2D → MaxPooling2D] × k → Flatten → Dense, softmax
cross-entropy.  Images NHWC.

Sections, as in scratch/conv_family.py and torch_impl/conv_family.py.
"""
from __future__ import annotations

import keras

from keras_impl import training

# ---- data: random images (N, H, W, C) and labels (N,) (parity_tests.families.synthetic_source) → the stream
#      fit reads: every epoch's shared seeded minibatches
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential, logits out; Conv2D takes strides and padding="same" (TensorFlow's rule) as they are
def build(config: dict, dtype: str) -> keras.Model:
    model = keras.Sequential(name="conv_family")
    model.add(keras.Input(shape=(*config["image_size"], config["channels"]), dtype=dtype))
    for i, conv in enumerate(config["convs"], start=1):
        model.add(keras.layers.Conv2D(conv.filters, conv.kernel, strides=conv.stride, padding=conv.padding,
                                      activation=conv.activation, name=f"conv{i}", dtype=dtype))
        if conv.pool > 1:
            model.add(keras.layers.MaxPooling2D(conv.pool, name=f"pool{i}", dtype=dtype))
    model.add(keras.layers.Flatten(name="flatten", dtype=dtype))
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


# ---- conversion: Conv2D kernels are (kh, kw, in, out) and Flatten is (H, W, C): the canonical layout
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable for layer in model.layers
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
            for key, variable in (("W", layer.kernel), ("b", layer.bias))}
