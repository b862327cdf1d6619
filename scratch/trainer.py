"""The trainer: epochs of shared minibatches, optimizer steps, evaluation every N epochs, best weights kept."""
from __future__ import annotations

import numpy as np

from triptych.batching import epoch_batches, steps_per_epoch
from scratch.network import Network
from scratch.optimizers import Optimizer


def fit(network: Network, optimizer: Optimizer, X: np.ndarray, y: np.ndarray, plan) -> dict:
    """Train ``network`` in place following ``plan`` (a triptych.frameworks.TrainPlan).

    Each step: loss and gradients on one minibatch, the loss recorded (a NaN/inf loss stops training
    with ``NonFiniteLoss`` before the step is applied), then ``optimizer.step``.  Every
    ``plan.eval_every`` epochs the evaluation loss (on X_val/y_val, else the training set)
    is recorded; with ``plan.keep_best`` the weights of the best evaluation are restored.
    """
    X_eval, y_eval = (plan.X_val, plan.y_val) if plan.X_val is not None else (X, y)
    history = {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": steps_per_epoch(len(X), plan.batch_size)}
    best_loss, best_params = np.inf, None
    for epoch in range(plan.epochs):
        optimizer.lr = plan.lr_at(epoch)
        network.train()
        for idx in epoch_batches(len(X), plan.batch_size, plan.seed, epoch):
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is stopped by record_loss
                loss, grads, _ = network.loss_and_grads(X[idx], y[idx], input_grad=False)
            plan.record_loss(history, loss)
            optimizer.step(network.params(), grads)
        record = {"epoch": epoch + 1, "loss": float(np.mean(history["loss"][-history["steps_per_epoch"]:]))}
        if plan.eval_every and (epoch + 1) % plan.eval_every == 0:
            network.eval()
            record["eval_loss"] = network.forward_loss(X_eval, y_eval)
            history["eval"].append({"epoch": epoch + 1, "loss": record["eval_loss"]})
            if plan.keep_best and record["eval_loss"] < best_loss:
                best_loss, history["best_epoch"] = record["eval_loss"], epoch + 1
                best_params = {k: v.copy() for k, v in network.params().items()}
        if plan.progress:
            plan.progress(record)
    if best_params is not None:
        for key, value in network.params().items():
            value[...] = best_params[key]
    network.eval()
    return history
