"""The one API the three implementations share, and the registry that hands them out.

    fw = get_framework("torch")                       # "scratch" | "torch" | "keras"
    net = fw.build(name, seed=0, dtype="float64", **overrides)   # name: any of MODELS
    w = fw.get_weights(net); fw.set_weights(net, w)   # canonical layout (triptych.canonical)
    out = fw.predict(net, X)
    loss, grads = fw.loss_and_grads(net, X, y)        # grads["input"] too with input_grad=True
    history = fw.train(net, X, y, epochs=3, batch_size=10, lr=0.03, optimizer="sgd", seed=0)
    history = fw.train(net, X, y, plan)               # a TrainPlan (train_plan builds and checks one)

:class:`Framework` checks every argument once, here, and calls the backend's hooks
(``_build``, ``_get``, ``_set``, ``_predict``, ``_loss_and_grads``, ``_train``,
``_summary``, ``_save``, ``_load``) with clean arrays.  Nothing here imports torch or
tensorflow: a backend is imported when it is first asked for, after its package's explicit set-up
(``<package>.setup.configure()``: backend choice, float64 patch, device, flags), and a missing one
raises :class:`FrameworkUnavailable` while the other two keep working.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from triptych import canonical
from triptych.checkpoints import check_checkpoint_path
from triptych.files import atomic_path
from triptych.options import LR_DECAYS, TRAINING_RULES, check_training
from triptych.packages import FRAMEWORKS, PACKAGES, install_hint
from triptych.registry import MODELS, get_spec, resolve
from triptych.validate import check_dtype, check_X, check_y

OPTIMIZER_OPTIONS = {
    "sgd": {"momentum", "nesterov", "weight_decay"},
    "adam": {"beta_1", "beta_2", "epsilon", "weight_decay"},
    "rmsprop": {"rho", "epsilon", "momentum", "centered"},
}
PREDICT_CHUNK = 1000  # predict works through big inputs this many samples at a time (bounded memory)

__all__ = ["FRAMEWORKS", "LR_DECAYS", "MODELS", "PACKAGES", "Framework", "FrameworkUnavailable", "Net",
           "NonFiniteLoss", "TrainPlan", "get_framework", "train_plan"]


class FrameworkUnavailable(ImportError):
    """A framework's package is not installed; the message says what to install."""


class NonFiniteLoss(ValueError):
    """Training stopped at a NaN or infinite loss; the message names the step, the framework and the
    last finite loss."""


@dataclass
class Net:
    """A built model: the framework's native object plus what the API needs to check inputs."""

    model: str
    config: dict[str, Any]
    dtype: str
    framework: str
    native: Any  # scratch.network.Network | torch.nn.Module | keras.Model
    extra: dict[str, Any] = field(default_factory=dict)  # backend's own bookkeeping

    @property
    def task(self) -> str:
        return get_spec(self.model).task


@dataclass
class TrainPlan:
    """Everything ``train`` needs, checked; the backends read it, never the raw kwargs."""

    epochs: int
    batch_size: int | None
    lr: float
    optimizer: str
    options: dict[str, Any]
    seed: int
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    eval_every: int | None = None
    keep_best: bool = False
    lr_decay: str = "none"
    decay_rate: float = 0.0
    progress: Callable[[dict], None] | None = None
    where: str = ""  # "model (framework)", for messages

    def record_loss(self, history: dict, loss: float) -> None:
        """Append one step's loss to ``history["loss"]``, or stop training with :class:`NonFiniteLoss`
        if it is NaN or infinite (scratch calls this before applying the step; torch and Keras call
        :meth:`record_losses` at the end of each epoch)."""
        losses = history["loss"]
        if not np.isfinite(loss):
            step, per_epoch = len(losses) + 1, history["steps_per_epoch"]
            last = (f"the last finite loss was {losses[-1]:.6g} at step {step - 1}" if losses
                    else "no step before it had a finite loss")
            raise NonFiniteLoss(f"{self.where}: training diverged: the loss is {float(loss)} at step {step} "
                                f"(epoch {(step - 1) // per_epoch + 1}); {last}; try a smaller learning rate "
                                f"than {self.lr:g}")
        losses.append(float(loss))

    def record_losses(self, history: dict, losses) -> None:
        """:meth:`record_loss` for each of one epoch's losses, read at once (torch and Keras keep them on
        the device during the epoch): a NaN/inf stops training at the epoch's end, naming its step."""
        for loss in losses:
            self.record_loss(history, loss)

    def lr_at(self, epoch: int) -> float:
        """Learning rate for 0-based ``epoch``: linear lr·(1 − r·e) (floored at 0) or exponential lr·r^e."""
        if self.lr_decay == "linear":
            return self.lr * max(0.0, 1.0 - self.decay_rate * epoch)
        if self.lr_decay == "exponential":
            return self.lr * self.decay_rate ** epoch
        return self.lr


PLAN_OPTIONS = ("epochs", "batch_size", "lr", "optimizer", "seed", "X_val", "y_val", "eval_every", "keep_best",
                "lr_decay", "decay_rate", "progress")  # train's named options; any other is an optimizer option


def train_plan(net: Net, plan: TrainPlan | None = None, **overrides) -> TrainPlan:
    """The checked :class:`TrainPlan` that trains ``net``: ``plan``'s values (None: the spec's recipe, with
    the recipe optimizer's options unless another optimizer is named), then ``overrides``.

    The recipe's evaluation: ``eval_every`` is the spec's (else 1) when ``X_val`` or ``keep_best`` is given.
    Every value is checked against ``triptych.options`` (a ValueError names the model and the option)."""
    named = {key: overrides.pop(key) for key in PLAN_OPTIONS if key in overrides}
    defaults = get_spec(net.model).training
    if plan is None:
        values = {"epochs": defaults["epochs"], "batch_size": defaults["batch_size"], "lr": defaults["lr"],
                  "optimizer": defaults["optimizer"], "seed": defaults["seed"], "X_val": None, "y_val": None,
                  "eval_every": None, "keep_best": defaults.get("keep_best", False), "lr_decay": "none",
                  "decay_rate": 0.0, "progress": None}
        values.update({key: value for key, value in named.items()
                       if value is not None or key in ("batch_size", "X_val", "y_val", "eval_every", "progress")})
        options = ({k: v for k, v in defaults.items() if k in OPTIMIZER_OPTIONS.get(values["optimizer"], ())}
                   if values["optimizer"] == defaults["optimizer"] else {})
        if values["eval_every"] is None and (values["X_val"] is not None or values["keep_best"]):
            values["eval_every"] = defaults.get("eval_every") or 1
    else:
        if not isinstance(plan, TrainPlan):
            raise ValueError(f"model {net.model!r}: plan must be a TrainPlan or None, got {type(plan).__name__}")
        values = {key: getattr(plan, key) for key in PLAN_OPTIONS}
        options = dict(plan.options) if named.get("optimizer", plan.optimizer) == plan.optimizer else {}
        values.update(named)
    options.update(overrides)
    checked, options = check_training(net.model, {key: values[key] for key in (
        "epochs", "batch_size", "lr", "seed", "eval_every", "keep_best", "lr_decay", "decay_rate")},
        values["optimizer"], options, OPTIMIZER_OPTIONS)
    progress, X_val, y_val = values["progress"], values["X_val"], values["y_val"]
    if progress is not None and not callable(progress):
        raise ValueError(f"model {net.model!r}: option 'progress' must be a function of one dict, got {progress!r}")
    if (X_val is None) != (y_val is None):
        raise ValueError(f"model {net.model!r}: give both X_val and y_val, or neither")
    if X_val is not None:
        X_val = check_X(net.model, net.config, X_val, net.dtype)
        y_val = check_y(net.model, net.config, y_val, len(X_val), net.dtype)
    return TrainPlan(optimizer=values["optimizer"], options=options, X_val=X_val, y_val=y_val, progress=progress,
                     where=f"{net.model} ({net.framework})", **checked)


class Framework:
    name = "?"

    @property
    def label(self) -> str:
        """The name parity tables show: ``name``, with Keras's backend off TensorFlow ("keras[jax]")."""
        return self.name

    # ------------------------------------------------------------------ public API

    def build(self, model: str, seed: int = 0, dtype: str = "float64", **overrides) -> Net:
        """A fresh model with this framework's own initialisers, seeded; ``overrides`` change the spec."""
        config = resolve(model, overrides)
        dtype = check_dtype(dtype)
        net = self._build(model, config, TRAINING_RULES["seed"](model, "seed", seed), dtype)
        self._check_layout(net)
        return net

    def _check_layout(self, net: Net) -> None:
        """The built model's weights against the declared canonical layout, names and shapes: a user's
        model whose file builds another shape than its spec declares is refused here, before any training."""
        declared = canonical.layout(net.model, net.config)
        got = {k: tuple(np.shape(v)) for k, v in self._get(net).items()}
        where = f"model {net.model!r} ({self.name})"
        missing, extra = [k for k in declared if k not in got], [k for k in got if k not in declared]
        if missing or extra:
            raise ValueError(f"{where}: the built weights {list(got)} are not the layout's {list(declared)}"
                             + (f"; missing {missing}" if missing else "") + (f"; not declared {extra}" if extra else ""))
        for name, (shape, _) in declared.items():
            if got[name] != tuple(shape):
                raise ValueError(f"{where}: weight {name!r} is built with shape {got[name]}, but the layout declares "
                                 f"{tuple(shape)}")

    def get_weights(self, net: Net) -> dict[str, np.ndarray]:
        """Copies of the parameters in the canonical layout."""
        self._own(net)
        return {k: np.array(v, copy=True) for k, v in self._get(net).items()}

    def set_weights(self, net: Net, weights: dict) -> None:
        """Load canonical weights (from any framework); checked against the layout first."""
        self._own(net)
        self._set(net, canonical.check_weights(net.model, net.config, weights, net.dtype))

    def predict(self, net: Net, X, training: bool = False) -> np.ndarray:
        """Evaluation-mode outputs: (N, 1) for regression and XOR probabilities, (N, C) logits
        (computed ``PREDICT_CHUNK`` samples at a time).  ``training=True``: training-mode outputs of the whole
        X as one batch (BatchNorm normalises with its statistics and updates its moving statistics, as a
        training step's forward pass does; dropout draws a mask)."""
        self._own(net)
        X = check_X(net.model, net.config, X, net.dtype)
        if training:
            return np.asarray(self._predict_training(net, X))
        return np.concatenate([self._predict(net, X[i:i + PREDICT_CHUNK]) for i in range(0, len(X), PREDICT_CHUNK)])

    def loss_and_grads(self, net: Net, X, y, input_grad: bool = False) -> tuple[float, dict[str, np.ndarray]]:
        """Training-mode loss and dL/dparameter in canonical names and layouts (+ ``"input"``), for the
        trainable entries only (state, ``triptych.canonical.is_state``, has no gradient)."""
        self._own(net)
        X = check_X(net.model, net.config, X, net.dtype)
        y = check_y(net.model, net.config, y, len(X), net.dtype)
        loss, grads, dx = self._loss_and_grads(net, X, y)
        grads = {k: np.asarray(v) for k, v in grads.items()}
        if input_grad:
            grads["input"] = np.asarray(dx)
        return float(loss), grads

    def train(self, net: Net, X, y, plan: TrainPlan | None = None, **overrides) -> dict[str, Any]:
        """Train in place by ``plan`` (None: the spec's recipe) with ``overrides`` (epochs, batch_size, lr,
        optimizer, seed, X_val, y_val, eval_every, keep_best, lr_decay, decay_rate, progress, and the
        optimizer's options) applied: :func:`train_plan`.

        Returns {"loss": per-step training loss (before each update), "eval": [{"epoch", "loss"}],
        "best_epoch", "steps_per_epoch", "seconds"}.  ``progress`` gets a dict after every epoch.
        """
        self._own(net)
        plan = train_plan(net, plan, **overrides)
        X = check_X(net.model, net.config, X, net.dtype)
        y = check_y(net.model, net.config, y, len(X), net.dtype)
        start = time.perf_counter()
        history = self._train(net, X, y, plan)
        history["seconds"] = time.perf_counter() - start
        return history

    def summary(self, net: Net) -> list[tuple[str, str, tuple, int]]:
        """Rows (layer, type, output shape per sample, parameters)."""
        self._own(net)
        return self._summary(net)

    def parameter_count(self, net: Net) -> int:
        return sum(row[3] for row in self.summary(net))

    def save(self, net: Net, path: str) -> None:
        """Native checkpoint: torch state_dict (.pt), Keras .weights.h5, scratch .npz; the name must
        carry the format's extension and its folder must take files (checked first).  Written to a
        temporary file beside ``path`` and renamed over it: a failed write leaves the old file as it was."""
        self._own(net)
        path = check_checkpoint_path(path, self.name)
        try:
            with atomic_path(path) as temp:
                self._save(net, temp)
        except RuntimeError as exc:  # torch reports a failed write (disk full) as a RuntimeError
            raise OSError(f"could not write checkpoint {path!r} ({exc}); the previous file is unchanged") from exc

    def load(self, net: Net, path: str) -> None:
        self._own(net)
        self._load(net, str(path))

    # ------------------------------------------------------------------ helpers

    def _own(self, net) -> None:
        if not isinstance(net, Net):
            raise ValueError(f"{self.name}: expected a Net from {self.name}.build(...), got {type(net).__name__}")
        if net.framework != self.name:
            raise ValueError(f"{self.name}: this net was built by {net.framework!r}; move weights with "
                             f"get_weights/set_weights instead")

    # hooks a backend implements
    def _build(self, model, config, seed, dtype): raise NotImplementedError
    def _get(self, net): raise NotImplementedError
    def _set(self, net, weights): raise NotImplementedError
    def _predict(self, net, X): raise NotImplementedError
    def _predict_training(self, net, X): raise NotImplementedError
    def _loss_and_grads(self, net, X, y): raise NotImplementedError
    def _train(self, net, X, y, plan): raise NotImplementedError
    def _summary(self, net): raise NotImplementedError
    def _save(self, net, path): raise NotImplementedError
    def _load(self, net, path): raise NotImplementedError


_CACHE: dict[str, Framework] = {}


def get_framework(name: str) -> Framework:
    """The framework called ``name``; on first use its package's set-up runs (``<package>.setup.configure()``),
    then its backend (``<package>.framework``) is imported."""
    if name not in FRAMEWORKS:
        raise ValueError(f"unknown framework {name!r}; expected one of {', '.join(FRAMEWORKS)}")
    if name not in _CACHE:
        package = PACKAGES[name]
        try:
            importlib.import_module(f"{package}.setup").configure()
            module = importlib.import_module(f"{package}.framework")
        except ImportError as exc:
            raise FrameworkUnavailable(
                f"framework {name!r} is not available ({exc}); install it with: {install_hint(name)}") from exc
        _CACHE[name] = module.FRAMEWORK
    return _CACHE[name]


def available_frameworks() -> dict[str, str | None]:
    """{name: None if usable, else the reason it is not}."""
    status = {}
    for name in FRAMEWORKS:
        try:
            get_framework(name)
            status[name] = None
        except FrameworkUnavailable as exc:
            status[name] = str(exc)
    return status
