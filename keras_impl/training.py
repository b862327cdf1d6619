"""Keras training: compile + fit over the shared batches, with callbacks for what fit does not record."""
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


def make_optimizer(plan) -> keras.optimizers.Optimizer:
    """keras.optimizers.SGD / Adam / RMSprop as a triptych.frameworks.TrainPlan asks (stock optimizers).

    Keras turns a Python-float hyperparameter into a tensor through float32 before casting it to
    the variable's dtype, so in a float64 model momentum=0.9 acts as 0.89999997615814…; the
    hyperparameters are therefore passed as ``np.float64`` in a float64 model (a ``float`` subclass,
    which Keras keeps exact and its ``isinstance(momentum, float)`` check accepts) and as plain
    Python floats in a float32 model, where the float32 rounding is the intended one.
    """
    o = plan.options
    real = np.float64 if keras.config.floatx() == "float64" else float
    if plan.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=plan.lr, momentum=real(o.get("momentum", 0.0)),
                                    nesterov=o.get("nesterov", False), weight_decay=o.get("weight_decay"))
    if plan.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=plan.lr, rho=real(o.get("rho", 0.9)),
                                        momentum=real(o.get("momentum", 0.0)), epsilon=real(o.get("epsilon", 1e-7)),
                                        centered=o.get("centered", False))
    return keras.optimizers.Adam(learning_rate=plan.lr, beta_1=real(o.get("beta_1", 0.9)),
                                 beta_2=real(o.get("beta_2", 0.999)), epsilon=real(o.get("epsilon", 1e-7)),
                                 weight_decay=o.get("weight_decay"))


class SharedBatches(keras.utils.PyDataset):
    """The minibatches of triptych.batching, epoch by epoch, in order (fit is called with shuffle=False).

    Keras calls ``on_epoch_begin`` before each epoch's first read (and ``on_epoch_end`` also once
    after probing the first batches), so epochs are counted where they begin."""

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int | None, seed: int):
        super().__init__()
        self.X, self.y, self.batch_size, self.seed = X, y, batch_size, seed
        self.epochs_begun = 0
        self.batches = epoch_batches(len(X), batch_size, seed, 0)  # fit reads a batch or two to learn the specs

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        idx = self.batches[i]
        return self.X[idx], self.y[idx]

    def on_epoch_begin(self) -> None:
        self.batches = epoch_batches(len(self.X), self.batch_size, self.seed, self.epochs_begun)
        self.epochs_begun += 1


class StepLosses(keras.callbacks.Callback):
    """Per-step training loss.  fit's logs["loss"] is a running mean over the epoch, so the
    metrics are reset before every batch and logs["loss"] is then the loss of that batch.  The
    values are kept as fit hands them over and turned into floats once per epoch (a backend that
    runs ahead, like JAX, is not made to wait for every step)."""

    def __init__(self, history: dict):
        super().__init__()
        self.history, self.pending = history, []

    def on_train_batch_begin(self, batch, logs=None):
        for metric in self.model.metrics:
            metric.reset_state()

    def on_train_batch_end(self, batch, logs=None):
        self.pending.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        self.history["loss"] += [float(v) for v in self.pending]
        self.pending.clear()


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


def fit(model: keras.Model, loss: keras.losses.Loss, X: np.ndarray, y: np.ndarray, plan) -> dict:
    """model.compile(optimizer, loss) then model.fit over the shared batches.

    Called under ``floatx(dtype)`` (the backend does it), so the loss, its tracker and the
    optimizer's variables share the model's dtype."""
    history = {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": steps_per_epoch(len(X), plan.batch_size)}
    X_eval, y_eval = (plan.X_val, plan.y_val) if plan.X_val is not None else (X, y)
    model.compile(optimizer=make_optimizer(plan), loss=loss)
    callbacks = [StepLosses(history), EvaluateEvery(plan, X_eval, y_eval, history)]
    if plan.lr_decay != "none":
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, lr: plan.lr_at(epoch)))
    model.fit(SharedBatches(X, y, plan.batch_size, plan.seed), epochs=plan.epochs, shuffle=False,
              verbose=0, callbacks=callbacks)
    return history
