"""A small ResNet in Keras 3: conv 3×3 16 (no bias) → BatchNorm → ReLU → residual blocks 16, 32 (stride 2),
64 (stride 2) → global average pool → dense 10, softmax cross-entropy, Adam.  Images NHWC; the functional API (the
residual additions are a graph, not a stack).

Conv2D(padding="same") is TensorFlow's rule on every Keras backend (the odd pixel after).  BatchNormalization's
momentum is the declaration's (0.9; Keras's default is 0.99) and its epsilon the declaration's (1e-5; Keras's
default is 1e-3); its moving variance takes the biased batch variance, the canonical convention.

Sections, as in scratch/resnet.py and torch_impl/resnet.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["dataset", "build", "loss", "optimizer", "train", "canonical_variables"]

import keras

from keras_impl import training
from triptych.models.resnet import blocks, needs_projection


# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them → the
#      stream fit reads: every epoch's shared seeded minibatches (the Reshape layer adds the channel axis, NHWC)
def dataset(X, y, plan):
    return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)


# ---- model: functional, logits out (the loss applies the softmax); Keras's Glorot-uniform kernels, BatchNorm γ 1,
#      β 0, moving mean 0 and variance 1
def build(config: dict, dtype: str) -> keras.Model:
    k, (h, w) = config["kernel_size"], config["image_size"]
    layer = dict(dtype=dtype)
    bn = dict(momentum=config["bn_momentum"], epsilon=config["bn_epsilon"], **layer)

    def conv(filters, name, size=k, stride=1):
        return keras.layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=False, name=name, **layer)

    inputs = keras.Input(shape=(h, w), dtype=dtype)
    x = keras.layers.Reshape((h, w, 1), name="reshape", **layer)(inputs)
    x = keras.layers.BatchNormalization(name="bn1", **bn)(conv(config["filters"][0], "conv1")(x))
    x = keras.layers.ReLU(name="relu1", **layer)(x)
    for name, c_in, c_out, stride in blocks(config):
        out = conv(c_out, f"{name}__conv1", stride=stride)(x)
        out = keras.layers.ReLU(name=f"{name}__relu", **layer)(keras.layers.BatchNormalization(name=f"{name}__bn1", **bn)(out))
        out = keras.layers.BatchNormalization(name=f"{name}__bn2", **bn)(conv(c_out, f"{name}__conv2")(out))
        if needs_projection(c_in, c_out, stride):
            x = keras.layers.BatchNormalization(name=f"{name}__shortcut_bn", **bn)(
                conv(c_out, f"{name}__shortcut", size=1, stride=stride)(x))
        x = keras.layers.ReLU(name=f"{name}__relu_out", **layer)(keras.layers.Add(name=f"{name}__add", **layer)([out, x]))
    x = keras.layers.GlobalAveragePooling2D(name="pool", **layer)(x)
    outputs = keras.layers.Dense(config["num_classes"], name="output", **layer)(x)
    return keras.Model(inputs, outputs, name="resnet")


# ---- loss: softmax cross-entropy on the logits
def loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---- optimizer: the recipe, keras.optimizers.Adam with learning rate 1e-3 (plan.lr)
def optimizer(plan) -> keras.optimizers.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(plan)
    return keras.optimizers.Adam(learning_rate=plan.lr, **training.optimizer_options(plan))


# ---- training: compile, then fit over the shared batches of 128 (fit runs BatchNorm in training mode and updates
#      its moving statistics; training.callbacks keep the books: each step's loss, NaN check, LR schedule, evaluation)
def train(model: keras.Model, X, y, plan) -> dict:
    model.compile(optimizer=optimizer(plan), loss=loss())
    history = training.new_history(len(X), plan)
    model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"], shuffle=False,
              verbose=0, callbacks=training.callbacks(history, X, y, plan))
    return history


# ---- conversion: Conv2D kernels are (kh, kw, in, out) already; BatchNormalization's gamma, beta, moving_mean,
# moving_variance are the canonical entries of the same names (the last two non-trainable: state)
SUBLAYERS = ("conv1", "bn1", "conv2", "bn2", "shortcut", "shortcut_bn")  # a block's entries in the layout's order


def _canonical(layer_name: str) -> str:
    """Keras on torch refuses dots in layer names: block{i}__bn1 stands for canonical block{i}.bn1."""
    return layer_name.replace("__", ".")


def _layout_order(layer) -> tuple:
    """The stem, then block by block (each in SUBLAYERS' order, not the graph's), then the classifier."""
    block, _, part = layer.name.partition("__")
    if not part:
        return (0 if layer.name in ("conv1", "bn1") else 10**9, ("conv1", "bn1").index(layer.name)
                if layer.name in ("conv1", "bn1") else 0)
    return (int(block[5:]), SUBLAYERS.index(part) if part in SUBLAYERS else -1)


def canonical_variables(model: keras.Model) -> dict:
    found = {}
    for layer in sorted(model.layers, key=_layout_order):  # block{i}__bn1 is canonical block{i}.bn1
        if isinstance(layer, keras.layers.Conv2D):
            found[f"{_canonical(layer.name)}.W"] = layer.kernel
        elif isinstance(layer, keras.layers.BatchNormalization):
            found.update({f"{_canonical(layer.name)}.{key}": getattr(layer, key)
                          for key in ("gamma", "beta", "moving_mean", "moving_variance")})
        elif isinstance(layer, keras.layers.Dense):
            found.update({"output.W": layer.kernel, "output.b": layer.bias})
    return found
