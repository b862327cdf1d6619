"""The Keras 3 backend of the shared API (triptych.frameworks); TensorFlow backend by default.

Each model file ``keras_impl/<model>.py`` provides ``build(config, dtype) -> keras.Model``,
``canonical_variables(model) -> {canonical name: keras.Variable}`` (Keras kernels already
have the canonical layout: Dense (in, out), Conv2D (kh, kw, in, out), LSTM (in, 4u) with
gates i, f, g, o, flatten in (H, W, C) order), ``loss()`` and ``train``.  A model whose canonical
layout is not Keras's own also provides ``to_canonical(arrays) -> dict`` and ``from_canonical(weights)
-> dict`` (NumPy arrays keyed by canonical name; exact, e.g. a transpose), applied to weights both ways
and to gradients.
"""
from __future__ import annotations

import io
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from triptych.frameworks import Framework, Net
from triptych.registry import get_spec  # noqa: E402
from keras_impl.training import floatx  # noqa: E402


def _module(model: str):
    return get_spec(model).module(FRAMEWORK.name)


class _NamedBuffer(io.BytesIO):
    """An in-memory file for ``save_weights``: Keras's H5IOStore writes into an io.BytesIO, and the name
    satisfies save_weights's check that the file name ends in .weights.h5."""

    def __str__(self) -> str:
        return "in-memory.weights.h5"


class KerasFramework(Framework):
    name = "keras"

    def _build(self, model, config, seed, dtype):
        keras.utils.set_random_seed(seed)
        with floatx(dtype):
            native = _module(model).build(config, dtype)
        return Net(model, config, dtype, self.name, native)

    def _variables(self, net) -> dict:
        return _module(net.model).canonical_variables(net.native)

    def _canonical(self, net, arrays: dict) -> dict:
        """Arrays shaped like the Keras variables → the canonical layout (the model's ``to_canonical``, if any)."""
        hook = getattr(_module(net.model), "to_canonical", None)
        return hook(arrays) if hook else arrays

    def _get(self, net):
        return self._canonical(net, {k: v.numpy() for k, v in self._variables(net).items()})

    def _set(self, net, weights):
        hook = getattr(_module(net.model), "from_canonical", None)
        weights = hook(weights) if hook else weights
        for key, variable in self._variables(net).items():
            variable.assign(weights[key])

    def _predict(self, net, X):
        """``predict_on_batch``: the compiled inference function (an eager call would run the LSTM's
        time loop step by step in Python)."""
        return np.asarray(net.native.predict_on_batch(X))

    def _loss_and_grads(self, net, X, y):
        variables = self._variables(net)
        with floatx(net.dtype):
            loss_fn = _module(net.model).loss()
        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = loss_fn(y, net.native(x, training=True))
            if net.native.losses:  # regularizers (kernel_regularizer=L2(…)): fit minimises loss + Σ of these
                loss = loss + keras.ops.sum(net.native.losses)
        grads = tape.gradient(loss, [*variables.values(), x])
        return (float(loss), self._canonical(net, {k: g.numpy() for k, g in zip(variables, grads[:-1])}),
                grads[-1].numpy())

    def _train(self, net, X, y, plan):
        with floatx(net.dtype):
            return _module(net.model).train(net.native, X, y, plan)

    def _summary(self, net):
        return [(layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
                for layer in net.native.layers]

    def _save(self, net, path):
        """h5py can crash the process when a write to disk fails part way (a full disk), so Keras writes the
        .weights.h5 into memory and the bytes go to ``path`` with plain file I/O, which fails cleanly."""
        buffer = _NamedBuffer()
        net.native.save_weights(buffer)
        with open(path, "wb") as fh:
            fh.write(buffer.getvalue())

    def _load(self, net, path):
        """A file that fails to load, or loads NaN/inf, leaves the model's weights as they were."""
        if not os.path.exists(path):
            raise ValueError(f"checkpoint {path!r} does not exist")
        before = net.native.get_weights()
        try:
            net.native.load_weights(path)
            if not all(np.all(np.isfinite(w)) for w in net.native.get_weights()):
                raise ValueError(f"it holds NaN/inf or values beyond {net.dtype}'s range")
        except Exception as exc:  # h5py/Keras raise many kinds for a corrupt or mismatched file
            net.native.set_weights(before)
            raise ValueError(f"checkpoint {path!r} is not a readable Keras .weights.h5 for {net.model} "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None


FRAMEWORK = KerasFramework()
