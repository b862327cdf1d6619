"""The explicit PyTorch training loop shared by the five models, and the optimizer factory."""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from triptych.batching import epoch_batches, steps_per_epoch


def make_optimizer(parameters, plan) -> torch.optim.Optimizer:
    """torch.optim.SGD / Adam / RMSprop as a triptych.frameworks.TrainPlan asks (stock optimizers, stock
    formulas and defaults; RMSprop's rho is torch's ``alpha``)."""
    o = plan.options
    if plan.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=plan.lr, momentum=o.get("momentum", 0.0),
                               nesterov=o.get("nesterov", False), weight_decay=o.get("weight_decay", 0.0))
    if plan.optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=plan.lr, alpha=o.get("rho", 0.99), eps=o.get("epsilon", 1e-8),
                                   momentum=o.get("momentum", 0.0), centered=o.get("centered", False))
    return torch.optim.Adam(parameters, lr=plan.lr, betas=(o.get("beta_1", 0.9), o.get("beta_2", 0.999)),
                            eps=o.get("epsilon", 1e-8), weight_decay=o.get("weight_decay", 0.0))


def as_tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """NumPy → tensors without copying; integer labels stay int64 (what CrossEntropyLoss wants)."""
    return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(y))


def fit(model: nn.Module, loss_fn: nn.Module, X: np.ndarray, y: np.ndarray, plan) -> dict:
    """The loop: for each shared minibatch, zero_grad → forward → loss → backward → step.

    The learning rate follows ``plan.lr_at(epoch)`` through a LambdaLR scheduler; every
    ``plan.eval_every`` epochs the model is evaluated (on X_val/y_val, else the training set)
    and with ``plan.keep_best`` the best state_dict is restored at the end.
    """
    X_t, y_t = as_tensors(X, y)
    X_eval, y_eval = as_tensors(plan.X_val, plan.y_val) if plan.X_val is not None else (X_t, y_t)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], plan)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: plan.lr_at(epoch) / plan.lr)
    history = {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": steps_per_epoch(len(X), plan.batch_size)}
    best_loss, best_state = np.inf, None
    for epoch in range(plan.epochs):
        model.train()
        losses = []  # kept as tensors and read once per epoch: no conversion to Python inside the loop
        for idx in epoch_batches(len(X), plan.batch_size, plan.seed, epoch):
            idx = torch.from_numpy(idx)
            optimizer.zero_grad()
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        history["loss"] += torch.stack(losses).tolist()
        scheduler.step()
        record = {"epoch": epoch + 1, "loss": float(np.mean(history["loss"][-history["steps_per_epoch"]:]))}
        if plan.eval_every and (epoch + 1) % plan.eval_every == 0:
            model.eval()
            with torch.no_grad():
                record["eval_loss"] = loss_fn(model(X_eval), y_eval).item()
            history["eval"].append({"epoch": epoch + 1, "loss": record["eval_loss"]})
            if plan.keep_best and record["eval_loss"] < best_loss:
                best_loss, history["best_epoch"] = record["eval_loss"], epoch + 1
                best_state = copy.deepcopy(model.state_dict())
        if plan.progress:
            plan.progress(record)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
