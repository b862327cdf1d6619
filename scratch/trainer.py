"""The books kept around the explicit loops of the scratch model files (and :func:`fit`, that loop for a
network whose file does not write its own).

Each model file's ``train`` writes scratch's loop itself — forward, loss, backward, update; this module
keeps the data's batches and the bookkeeping:

    data = Batches(X, y, plan)                 # data.epoch(e): the shared seeded minibatches, NumPy rows
    run = Run(network, optimizer, data, plan)
    for epoch in run.epochs():                 # before: the epoch's learning rate; after: evaluation, keep-best, progress
        network.train()
        for X_b, y_b in data.epoch(epoch):
            loss = network.loss.forward(network.forward(X_b), y_b)
            run.record(loss)                   # the step's loss for the history; NaN/inf stops before the update
            network.backward(network.loss.backward(), input_grad=False)
            optimizer.step(network.params(), network.grads())
    return run.history
"""
from __future__ import annotations

import numpy as np

from triptych.batching import epoch_batches, steps_per_epoch
from scratch.network import Network
from scratch.optimizers import Optimizer


class Batches:
    """The arrays X (N, …), y (N, …) as the shared loaders return them and, per epoch, the minibatches of the
    shared seeded sampler (triptych.batching: the rows, in the order, that torch and Keras take;
    ``plan.batch_size`` None: one full batch)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, plan):
        self.X, self.y, self.plan = X, y, plan

    def __len__(self) -> int:
        """Steps per epoch."""
        return steps_per_epoch(len(self.X), self.plan.batch_size)

    def epoch(self, epoch: int):
        """(X_b, y_b) for each minibatch of 0-based ``epoch``."""
        for idx in epoch_batches(len(self.X), self.plan.batch_size, self.plan.seed, epoch):
            yield self.X[idx], self.y[idx]


class Run:
    """One training run's bookkeeping around a model file's loop.

    ``run.epochs()``: 0 … plan.epochs − 1; before each epoch the optimizer takes ``plan.lr_at(epoch)``, and
    while the epoch runs NumPy's overflow and invalid-value warnings are off (a diverging run is stopped by
    :meth:`record` instead); after each, every ``plan.eval_every`` epochs the evaluation loss (on X_val/y_val,
    else the training set) is recorded, with ``plan.keep_best`` the weights of the best evaluation are kept
    (and restored at the end), and ``plan.progress`` gets the epoch's record.  The network ends in eval mode.
    ``run.record(loss)``: a step's loss into ``history["loss"]``, or :class:`~triptych.frameworks.NonFiniteLoss`
    if it is NaN/inf (before the step is applied).
    ``run.history``: {"loss", "eval", "best_epoch", "steps_per_epoch"}."""

    def __init__(self, network, optimizer: Optimizer, data: Batches, plan):
        self.network, self.optimizer, self.data, self.plan = network, optimizer, data, plan
        self.history = {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": len(data)}
        self._eval_data = (plan.X_val, plan.y_val) if plan.X_val is not None else (data.X, data.y)
        self._best_loss, self._best_params = np.inf, None

    def record(self, loss: float) -> None:
        self.plan.record_loss(self.history, loss)

    def epochs(self):
        for epoch in range(self.plan.epochs):
            self.optimizer.lr = self.plan.lr_at(epoch)
            with np.errstate(over="ignore", invalid="ignore"):
                yield epoch
            self._end_epoch(epoch)
        if self._best_params is not None:
            for key, value in self._variables().items():
                value[...] = self._best_params[key]
        self.network.eval()

    def _variables(self) -> dict:
        """What keep-best keeps: the parameters and the state (BatchNorm's moving statistics)."""
        network = self.network
        return network.variables() if hasattr(network, "variables") else network.params()

    def _end_epoch(self, epoch: int) -> None:
        plan, history = self.plan, self.history
        record = {"epoch": epoch + 1, "loss": float(np.mean(history["loss"][-history["steps_per_epoch"]:]))}
        if plan.eval_every and (epoch + 1) % plan.eval_every == 0:
            self.network.eval()
            record["eval_loss"] = self.network.forward_loss(*self._eval_data)
            history["eval"].append({"epoch": epoch + 1, "loss": record["eval_loss"]})
            if plan.keep_best and record["eval_loss"] < self._best_loss:
                self._best_loss, history["best_epoch"] = record["eval_loss"], epoch + 1
                self._best_params = {k: v.copy() for k, v in self._variables().items()}
        if plan.progress:
            plan.progress(record)


def fit(network: Network, optimizer: Optimizer, X: np.ndarray, y: np.ndarray, plan) -> dict:
    """The loop of the module docstring, for a network whose file does not write its own (the random
    families' and a user's own models): forward, the loss (with the network's L2 terms), backward, update."""
    data = Batches(X, y, plan)
    run = Run(network, optimizer, data, plan)
    for epoch in run.epochs():
        network.train()
        for X_b, y_b in data.epoch(epoch):
            run.record(network.forward_loss(X_b, y_b))
            network.backward(network.loss.backward(), input_grad=False)
            optimizer.step(network.params(), network.grads())
    return run.history
