"""The Keras 3 backend of the shared API (triptych.frameworks), on whichever Keras backend this
process runs (``keras_impl.backend``: tensorflow by default, or jax or torch from KERAS_BACKEND), set up
first by ``keras_impl.setup.configure()``.

Each model file ``keras_impl/<model>.py`` provides ``build(config, dtype) -> keras.Model``,
``canonical_variables(model) -> {canonical name: keras.Variable}`` (Keras kernels already
have the canonical layout: Dense (in, out), Conv2D (kh, kw, in, out), LSTM (in, 4u) with
gates i, f, g, o, flatten in (H, W, C) order), ``loss()``, ``optimizer(plan)`` and ``train(model, X, y,
plan)`` (compile + fit).  A model whose canonical
layout is not Keras's own also provides ``to_canonical(arrays) -> dict`` and ``from_canonical(weights)
-> dict`` (NumPy arrays keyed by canonical name; exact, e.g. a transpose), applied to weights both ways
and to gradients; a ``from_canonical(weights, shapes)`` is also given the variables' shapes (the transformer's
attention kernels (d, d) → (d, heads, head_dim), whose head count the canonical arrays do not carry).
"""
from __future__ import annotations

import inspect
import io
import os

import keras
import numpy as np

from keras_impl import backend
from keras_impl.training import floatx
from triptych.canonical import is_state
from triptych.frameworks import Framework, Net
from triptych.registry import get_spec


def _module(model: str):
    return get_spec(model).module(FRAMEWORK.name)


class _NamedBuffer(io.BytesIO):
    """An in-memory file for ``save_weights``: Keras's H5IOStore writes into an io.BytesIO, and the name
    satisfies save_weights's check that the file name ends in .weights.h5."""

    def __str__(self) -> str:
        return "in-memory.weights.h5"


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

    def _canonical(self, net, arrays: dict) -> dict:
        """Arrays shaped like the Keras variables → the canonical layout (the model's ``to_canonical``, if any)."""
        hook = getattr(_module(net.model), "to_canonical", None)
        return hook(arrays) if hook else arrays

    def _get(self, net):
        return self._canonical(net, {k: keras.ops.convert_to_numpy(v) for k, v in self._variables(net).items()})

    def _set(self, net, weights):
        hook, variables = getattr(_module(net.model), "from_canonical", None), self._variables(net)
        if hook and "shapes" in inspect.signature(hook).parameters:  # a layout that needs the variables' shapes
            weights = hook(weights, shapes={k: tuple(v.shape) for k, v in variables.items()})
        elif hook:
            weights = hook(weights)
        for key, variable in variables.items():
            variable.assign(weights[key])

    def _predict(self, net, X):
        """``predict_on_batch``: the compiled inference function (an eager call would run the LSTM's
        time loop step by step in Python)."""
        return np.asarray(net.native.predict_on_batch(X))

    def _predict_training(self, net, X):
        """An eager call with ``training=True`` (BatchNorm's batch statistics; its moving statistics updated)."""
        return keras.ops.convert_to_numpy(net.native(X, training=True))

    def _loss_and_grads(self, net, X, y):
        """Gradients of the trainable variables only (not of the state: BatchNorm's moving statistics)."""
        variables = {k: v for k, v in self._variables(net).items() if not is_state(k)}
        with floatx(net.dtype):
            loss_fn = _module(net.model).loss()
        loss, grads, dx = backend.value_and_grads(net.native, loss_fn, list(variables.values()), X, y)
        return loss, self._canonical(net, dict(zip(variables, grads))), dx

    def _train(self, net, X, y, plan):
        with floatx(net.dtype):
            return _module(net.model).train(net.native, X, y, plan)

    def _summary(self, net):
        """One row per layer with its trainable parameter count: BatchNorm's moving statistics are state, and a
        variable marked ``held_at_zero`` (frozen at zero, not a parameter of the model: the transformer's key bias)
        is left out."""
        def count(layer):
            return sum(int(np.prod(v.shape)) for v in layer.trainable_weights if not getattr(v, "held_at_zero", False))
        def shape(layer):  # a layer with several outputs (attention with its scores): the first
            out = layer.output[0] if isinstance(layer.output, (list, tuple)) else layer.output
            return tuple(out.shape[1:])
        return [(layer.name, type(layer).__name__, shape(layer), count(layer)) for layer in net.native.layers]

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
        _check_h5_variables(net, path)
        before = net.native.get_weights()
        try:
            net.native.load_weights(path)
            if not all(np.all(np.isfinite(w)) for w in net.native.get_weights()):
                raise ValueError(f"it holds NaN/inf or values beyond {net.dtype}'s range")
        except Exception as exc:  # h5py/Keras raise many kinds for a corrupt or mismatched file
            net.native.set_weights(before)
            raise ValueError(f"checkpoint {path!r} is not a readable Keras .weights.h5 for {net.model} "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None


def _check_h5_variables(net, path) -> None:
    """The .weights.h5 holds exactly as many arrays as the model has variables, all floating point: Keras
    itself would load a file with an extra variable (it warns) or cast an integer bias without a word."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            arrays = []
            f.visititems(lambda name, item: arrays.append((name, item.dtype)) if isinstance(item, h5py.Dataset)
                         else None)
    except OSError as exc:
        raise ValueError(f"checkpoint {path!r} is not a readable Keras .weights.h5 ({exc})") from None
    expected = len(net.native.weights)
    if len(arrays) != expected:
        raise ValueError(f"checkpoint {path!r} holds {len(arrays)} arrays, but {net.model} has {expected} variables "
                         f"({'an extra' if len(arrays) > expected else 'a missing'} variable); not loaded")
    bad = [f"{name} ({dtype})" for name, dtype in arrays if not np.issubdtype(dtype, np.floating)]
    if bad:
        raise ValueError(f"checkpoint {path!r}: {', '.join(bad)} not floating point; not loaded")


FRAMEWORK = KerasFramework()
