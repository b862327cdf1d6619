"""The Keras 3 backend of the shared API (triptych.frameworks), on whichever Keras backend this
process runs (``keras_impl.backend``: tensorflow by default, or jax or torch from KERAS_BACKEND).

Each model file ``keras_impl/<model>.py`` provides ``build(config, dtype) -> keras.Model``,
``canonical_variables(model) -> {canonical name: keras.Variable}`` (Keras kernels already
have the canonical layout: Dense (in, out), Conv2D (kh, kw, in, out), LSTM (in, 4u) with
gates i, f, g, o, flatten in (H, W, C) order), ``loss()`` and ``train``.
"""
from __future__ import annotations

import os

import keras
import numpy as np

from keras_impl import backend
from keras_impl.training import floatx
from triptych.frameworks import Framework, Net
from triptych.registry import get_spec


def _module(model: str):
    return get_spec(model).module(FRAMEWORK.name)


class KerasFramework(Framework):
    name = "keras"
    label = backend.LABEL  # "keras" on TensorFlow, "keras[jax]", "keras[torch]"

    def _build(self, model, config, seed, dtype):
        backend.set_random_seed(seed)
        with floatx(dtype):
            native = _module(model).build(config, dtype)
        return Net(model, config, dtype, self.name, native)

    def _variables(self, net) -> dict:
        return _module(net.model).canonical_variables(net.native)

    def _get(self, net):
        return {k: keras.ops.convert_to_numpy(v) for k, v in self._variables(net).items()}

    def _set(self, net, weights):
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
        loss, grads, dx = backend.value_and_grads(net.native, loss_fn, list(variables.values()), X, y)
        return loss, dict(zip(variables, grads)), dx

    def _train(self, net, X, y, plan):
        with floatx(net.dtype):
            return _module(net.model).train(net.native, X, y, plan)

    def _summary(self, net):
        return [(layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
                for layer in net.native.layers]

    def _save(self, net, path):
        if not path.endswith(".weights.h5"):
            raise ValueError(f"Keras checkpoints are .weights.h5 files, got {path!r}")
        net.native.save_weights(path)

    def _load(self, net, path):
        if not os.path.exists(path):
            raise ValueError(f"checkpoint {path!r} does not exist")
        try:
            net.native.load_weights(path)
        except Exception as exc:  # h5py/Keras raise many kinds for a corrupt or mismatched file
            raise ValueError(f"checkpoint {path!r} is not a readable Keras .weights.h5 for {net.model} "
                             f"({type(exc).__name__}: {exc})") from None


FRAMEWORK = KerasFramework()
