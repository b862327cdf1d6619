"""Keras training's shared bookkeeping: the floatx context, the optimizers' options and the shared factory,
the shared batches fit reads, and the callbacks for what fit does not record.  Each model file builds its
dataset and optimizer, and compiles and fits itself:

    def dataset(X, y, plan):
        return training.shared_batches(X, y, plan.batch_size, plan.seed, plan.epochs)

    def train(model, X, y, plan):
        model.compile(optimizer=optimizer(plan), loss=loss())
        history = training.new_history(len(X), plan)
        model.fit(dataset(X, y, plan), epochs=plan.epochs, steps_per_epoch=history["steps_per_epoch"],
                  shuffle=False, verbose=0, callbacks=training.callbacks(history, X, y, plan))
        return history
"""
from __future__ import annotations

import contextlib

import keras
import numpy as np

from triptych.batching import epoch_batches, steps_per_epoch


@contextlib.contextmanager
def floatx(dtype: str):
    """Build, compile and fit under ``keras.config.floatx() == dtype`` (optimizer variables such as the
    learning rate take floatx: a float32 lr in a float64 model is off by ~1e-9 relative)."""
    previous = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


KERAS_DEFAULTS = {  # the real-valued hyperparameters of each stock optimizer, at Keras's defaults
    "sgd": {"momentum": 0.0},
    "adam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "rmsprop": {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7},
}
OPTIMIZERS = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}


def optimizer_options(plan) -> dict:
    """``plan.options`` as keyword arguments of ``keras.optimizers.<plan.optimizer>`` (Keras's own names).

    Keras turns a Python-float hyperparameter into a tensor through float32 before casting it to the
    variable's dtype, so in a float64 model momentum=0.9 acts as 0.89999997615814…; every real-valued
    hyperparameter (``KERAS_DEFAULTS``, the plan's value or Keras's default) is therefore passed as
    ``np.float64`` in a float64 model (a ``float`` subclass, which Keras keeps exact and its
    ``isinstance(momentum, float)`` check accepts) and as a plain Python float in a float32 model, where
    the float32 rounding is the intended one.  The other options (nesterov, centered, weight_decay) pass
    as they are."""
    real = np.float64 if keras.config.floatx() == "float64" else float
    defaults = KERAS_DEFAULTS[plan.optimizer]
    return {**plan.options, **{k: real(plan.options.get(k, v)) for k, v in defaults.items()}}


def make_optimizer(plan) -> keras.optimizers.Optimizer:
    """The shared factory: ``keras.optimizers.SGD / Adam / RMSprop`` as ``plan.optimizer`` names, with
    ``plan.lr`` and :func:`optimizer_options`, for an optimizer other than a model's recipe (each model file
    builds its recipe's itself)."""
    return OPTIMIZERS[plan.optimizer](learning_rate=plan.lr, **optimizer_options(plan))


class SharedBatches(keras.utils.PyDataset):
    """The minibatches of triptych.batching, epoch after epoch, as one endless sequence: item i is batch
    i mod steps of epoch i // steps (steps = batches per epoch).

    fit reads it with ``steps_per_epoch=steps`` and so keeps one iterator for the whole run; a finite
    PyDataset is re-opened every epoch, which cost about 60 ms an epoch here (most of the time of a
    2,500-epoch full-batch run).  Items depend on their index only, so read-ahead cannot shift them."""

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int | None, seed: int):
        super().__init__()
        self.X, self.y, self.batch_size, self.seed = X, y, batch_size, seed
        self.steps = steps_per_epoch(len(X), batch_size)
        self.epoch, self.batches = None, []

    @property
    def num_batches(self) -> None:
        return None  # endless: fit's steps_per_epoch marks the epochs

    def __getitem__(self, i: int):
        epoch, step = divmod(i, self.steps)
        if epoch != self.epoch:
            self.epoch, self.batches = epoch, epoch_batches(len(self.X), self.batch_size, self.seed, epoch)
        idx = self.batches[step]
        return self.X[idx], self.y[idx]


def shared_batches(X: np.ndarray, y: np.ndarray, batch_size: int | None, seed: int, epochs: int):
    """What fit reads (with ``steps_per_epoch``): every epoch's batches of triptych.batching, in order.

    On TensorFlow, one tf.data stream for all epochs: the row indices are drawn here, once, and tf.data
    gathers the rows, so no Python runs per batch (a PyDataset calls back into Python for every batch,
    which cost up to a tenth of a GRU step).  On JAX and torch, :class:`SharedBatches`."""
    if keras.backend.backend() != "tensorflow":
        return SharedBatches(X, y, batch_size, seed)
    import tensorflow as tf

    order = np.stack([np.concatenate(epoch_batches(len(X), batch_size, seed, e)) for e in range(epochs)])
    size = len(X) if batch_size is None else batch_size
    X_t, y_t = tf.constant(X), tf.constant(y)
    return (tf.data.Dataset.from_tensor_slices(order)
            .flat_map(lambda rows: tf.data.Dataset.from_tensor_slices(rows).batch(size))
            .map(lambda rows: (tf.gather(X_t, rows), tf.gather(y_t, rows)))
            .prefetch(1))


class StepLosses(keras.callbacks.Callback):
    """Per-step training loss.  fit's logs["loss"] is a running mean over the epoch, so the
    metrics are reset before every batch and logs["loss"] is then the loss of that batch.  The
    values are kept as fit hands them over and turned into floats once per epoch (a backend that
    runs ahead, like JAX, is not made to wait for every step); a NaN/inf loss then stops fit with
    ``NonFiniteLoss`` (``plan.record_losses``), naming its step."""

    def __init__(self, history: dict, plan):
        super().__init__()
        self.history, self.plan, self.pending = history, plan, []

    def on_train_batch_begin(self, batch, logs=None):
        for metric in self.model.metrics:
            metric.reset_state()

    def on_train_batch_end(self, batch, logs=None):
        self.pending.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        values, self.pending = [float(v) for v in self.pending], []
        self.plan.record_losses(self.history, values)


class EvaluateEvery(keras.callbacks.Callback):
    """Every ``plan.eval_every`` epochs: evaluation loss; with ``plan.keep_best`` the best weights
    are restored at the end of training (EarlyStopping(restore_best_weights=True) without stopping)."""

    def __init__(self, plan, X_eval, y_eval, history: dict):
        super().__init__()
        self.plan, self.X_eval, self.y_eval, self.history = plan, X_eval, y_eval, history
        self.best_loss, self.best_weights = np.inf, None

    def on_epoch_end(self, epoch, logs=None):
        record = {"epoch": epoch + 1, "loss": float(np.mean(self.history["loss"][-self.history["steps_per_epoch"]:]))}
        if self.plan.eval_every and (epoch + 1) % self.plan.eval_every == 0:
            record["eval_loss"] = float(self.model.evaluate(self.X_eval, self.y_eval, batch_size=len(self.X_eval),
                                                            verbose=0))
            self.history["eval"].append({"epoch": epoch + 1, "loss": record["eval_loss"]})
            if self.plan.keep_best and record["eval_loss"] < self.best_loss:
                self.best_loss, self.history["best_epoch"] = record["eval_loss"], epoch + 1
                self.best_weights = self.model.get_weights()
        if self.plan.progress:
            self.plan.progress(record)

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def new_history(n: int, plan) -> dict:
    """What ``train`` returns, empty, for ``n`` samples: {"loss": per-step losses, "eval", "best_epoch",
    "steps_per_epoch"} (the callbacks fill it in)."""
    return {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": steps_per_epoch(n, plan.batch_size)}


def callbacks(history: dict, X: np.ndarray, y: np.ndarray, plan) -> list[keras.callbacks.Callback]:
    """fit's bookkeeping: each step's loss into ``history`` (NaN/inf stops training), evaluation every
    ``plan.eval_every`` epochs on (plan.X_val, plan.y_val), else on (X, y), with the best weights kept if
    ``plan.keep_best``, progress, and the learning-rate schedule ``plan.lr_at(epoch)``."""
    X_eval, y_eval = (plan.X_val, plan.y_val) if plan.X_val is not None else (X, y)
    chosen = [StepLosses(history, plan), EvaluateEvery(plan, X_eval, y_eval, history)]
    if plan.lr_decay != "none":
        chosen.append(keras.callbacks.LearningRateScheduler(lambda epoch, lr: plan.lr_at(epoch)))
    return chosen
