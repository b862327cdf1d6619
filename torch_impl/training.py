"""The explicit PyTorch training loop shared by the five models, and the optimizer factory."""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from triptych.batching import epoch_batches, steps_per_epoch


def make_optimizer(parameters, plan) -> torch.optim.Optimizer:
    """torch.optim.SGD / Adam as a triptych.frameworks.TrainPlan asks (stock optimizers, stock formulas)."""
    o = plan.options
    if plan.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=plan.lr, momentum=o.get("momentum", 0.0),
                               nesterov=o.get("nesterov", False), weight_decay=o.get("weight_decay", 0.0))
    return torch.optim.Adam(parameters, lr=plan.lr, betas=(o.get("beta_1", 0.9), o.get("beta_2", 0.999)),
                            eps=o.get("epsilon", 1e-8), weight_decay=o.get("weight_decay", 0.0))


def as_tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """NumPy → tensors without copying; integer labels stay int64 (what CrossEntropyLoss wants)."""
    return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(y))


def _mean_over_replicas(loss: torch.Tensor, replicas: int) -> float:
    """The loss of the whole batch: the mean of the replicas' (equal-share) losses."""
    if replicas > 1:
        loss = loss.clone()
        dist.all_reduce(loss)
        loss /= replicas
    return loss.item()


def fit(model: nn.Module, loss_fn: nn.Module, X: np.ndarray, y: np.ndarray, plan) -> dict:
    """The loop: for each shared minibatch, zero_grad → forward → loss → backward → step.

    The learning rate follows ``plan.lr_at(epoch)`` through a LambdaLR scheduler; every
    ``plan.eval_every`` epochs the model is evaluated (on X_val/y_val, else the training set)
    and with ``plan.keep_best`` the best state_dict is restored at the end.

    Under torch.distributed (a process group of R processes, triptych.distributed) the same loop is
    data-parallel: the model is wrapped in DistributedDataParallel, process r takes the r-th of R equal
    shares of every batch, DDP averages the R gradients of the share means (= the gradient of the
    batch mean), and the logged loss is the mean of the R share losses.
    """
    rank, replicas = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if replicas > 1:
        model = DistributedDataParallel(model)
    X_t, y_t = as_tensors(X, y)
    X_eval, y_eval = as_tensors(plan.X_val, plan.y_val) if plan.X_val is not None else (X_t, y_t)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], plan)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: plan.lr_at(epoch) / plan.lr)
    history = {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": steps_per_epoch(len(X), plan.batch_size)}
    best_loss, best_state = np.inf, None
    for epoch in range(plan.epochs):
        model.train()
        for idx in epoch_batches(len(X), plan.batch_size, plan.seed, epoch):
            idx = torch.from_numpy(np.array_split(idx, replicas)[rank])
            optimizer.zero_grad()
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()
            history["loss"].append(_mean_over_replicas(loss.detach(), replicas))
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
