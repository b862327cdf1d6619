"""A convolutional autoencoder in Keras 3: conv 3×3 stride 2 (1→16) relu → conv 3×3 stride 2 (16→32) relu → flatten
→ dense 32 (the code) → dense 32·7·7 relu → reshape → Conv2DTranspose 3×3 stride 2 (32→16) relu → Conv2DTranspose 3×3
stride 2 (16→1) sigmoid → (N, 28, 28), MSE on the pixels, Adam.  Images NHWC; padding="same" throughout (a transposed
convolution then gives exactly in × stride).

Sections, as in scratch/autoencoder.py and torch_impl/autoencoder.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training
from triptych.models.autoencoder import feature_map


# ---- data: images (N, 28, 28) in [0, 1] as triptych.mnist.load_mnist returns them, each its own target → the stream
#      fit reads: every epoch's shared seeded minibatches (the Reshape layer adds the channel axis, NHWC)
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: Sequential; Keras's Glorot-uniform kernels, zero biases
def build(config: dict, dtype: str) -> keras.Model:
    k, (f1, f2), code = config["kernel_size"], config["filters"], config["code_size"]
    (h, w), (h2, w2, _) = config["image_size"], feature_map(config)
    layer = dict(dtype=dtype)
    return keras.Sequential([
        keras.Input(shape=(h, w), dtype=dtype),
        keras.layers.Reshape((h, w, 1), name="reshape", **layer),
        keras.layers.Conv2D(f1, k, strides=2, padding="same", activation="relu", name="enc1", **layer),
        keras.layers.Conv2D(f2, k, strides=2, padding="same", activation="relu", name="enc2", **layer),
        keras.layers.Flatten(name="flatten", **layer),
        keras.layers.Dense(code, name="code", **layer),
        keras.layers.Dense(h2 * w2 * f2, activation="relu", name="expand", **layer),
        keras.layers.Reshape((h2, w2, f2), name="unflatten", **layer),
        keras.layers.Conv2DTranspose(f1, k, strides=2, padding="same", activation="relu", name="dec1", **layer),
        keras.layers.Conv2DTranspose(1, k, strides=2, padding="same", activation="sigmoid", name="dec2", **layer),
        keras.layers.Reshape((h, w), name="image", **layer),
    ], name="autoencoder")


# ---- loss: the mean squared error over every pixel of every image
def loss() -> keras.losses.Loss:
    return keras.losses.MeanSquaredError()


# ---- optimizer: the recipe, keras.optimizers.Adam with learning rate 1e-3 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.Adam(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit the images to themselves over the shared batches of 128
#      (training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation, keep-best)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: Conv2D kernels (kh, kw, in, out), Conv2DTranspose kernels (kh, kw, out, in) and the (H, W, C)
# flatten and reshape are already the canonical layout
def canonical_variables(model: keras.Model) -> dict:
    return {f"{layer.name}.{key}": variable for layer in model.layers
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense))
            for key, variable in (("W", layer.kernel), ("b", layer.bias))}
