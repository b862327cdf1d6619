"""The explicit PyTorch training loop shared by the five models, and the optimizer factory."""
from __future__ import annotations

import copy
import os

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from triptych.batching import epoch_batches, steps_per_epoch


def _device() -> torch.device:
    """Where torch computes: ``TRIPTYCH_TORCH_DEVICE`` (default ``cpu``; ``cuda``, ``cuda:1``, … on a GPU
    machine).  On CUDA, TF32 is switched off for matmuls and cuDNN convolutions, so float32 is float32
    (torch would otherwise round convolution inputs to 10-bit mantissas, far outside float32 parity)."""
    name = os.environ.get("TRIPTYCH_TORCH_DEVICE", "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r} is not a torch device; expected cpu or cuda[:N]") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r}, but this torch sees no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
    elif device.type != "cpu":
        raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r}: expected cpu or cuda[:N]")
    return device


DEVICE = _device()


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


def param_groups(module, model: nn.Module) -> list[dict]:
    """The model's parameter groups: ``module.param_groups(model)`` where the model file declares them
    (e.g. weight decay on some parameters only), else one group of every trainable parameter."""
    if hasattr(module, "param_groups"):
        return module.param_groups(model)
    return [{"params": [p for p in model.parameters() if p.requires_grad]}]


def l2_penalty(groups: list[dict]) -> float:
    """Σ over groups of wd/2·Σ‖p‖²: the term a group's ``weight_decay`` wd minimises (torch adds its
    gradient wd·p to p.grad in ``step``; the loss tensor never contains it).  0 at once where no group decays
    (the loop asks every step)."""
    decaying = [g for g in groups if g.get("weight_decay")]
    if not decaying:
        return 0.0
    with torch.no_grad():
        return sum(g["weight_decay"] / 2 * sum(float(torch.sum(p * p)) for p in g["params"]) for g in decaying)


def as_tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """NumPy → tensors on :data:`DEVICE` (on the CPU without copying); integer labels stay int64 (what
    CrossEntropyLoss wants)."""
    return (torch.from_numpy(np.ascontiguousarray(X)).to(DEVICE), torch.from_numpy(np.ascontiguousarray(y)).to(DEVICE))


def _mean_over_replicas(loss: torch.Tensor, replicas: int) -> torch.Tensor:
    """The loss of the whole batch: the mean of the replicas' (equal-share) losses."""
    if replicas > 1:
        loss = loss.clone()
        dist.all_reduce(loss)
        loss /= replicas
    return loss


def fit(model: nn.Module, loss_fn: nn.Module, X: np.ndarray, y: np.ndarray, plan,
        groups: list[dict] | None = None) -> dict:
    """The loop: for each shared minibatch, zero_grad → forward → loss → backward → step.

    ``groups``: parameter groups (default: every trainable parameter in one group).  The recorded
    losses add the groups' L2 terms (:func:`l2_penalty`), the objective their ``weight_decay`` minimises,
    as scratch's and Keras's losses include their penalties.

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
    groups = groups or [{"params": [p for p in model.parameters() if p.requires_grad]}]
    decay = plan.options.get("weight_decay", 0.0)  # the plan's decay adds to a group's own (a model's L2)
    optimizer = make_optimizer([{**g, "weight_decay": g["weight_decay"] + decay} if "weight_decay" in g else g
                                for g in groups], plan)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: plan.lr_at(epoch) / plan.lr)
    history = {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": steps_per_epoch(len(X), plan.batch_size)}
    best_loss, best_state = np.inf, None
    for epoch in range(plan.epochs):
        model.train()
        losses = []  # kept as tensors and read once per epoch: no conversion to Python inside the loop
        for idx in epoch_batches(len(X), plan.batch_size, plan.seed, epoch):
            idx = torch.from_numpy(np.array_split(idx, replicas)[rank] if replicas > 1 else idx).to(DEVICE)
            optimizer.zero_grad()
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            losses.append(_mean_over_replicas(loss.detach(), replicas) + l2_penalty(groups))
            loss.backward()
            optimizer.step()
        plan.record_losses(history, torch.stack(losses).tolist())  # NaN/inf stops training here, naming its step
        scheduler.step()
        record = {"epoch": epoch + 1, "loss": float(np.mean(history["loss"][-history["steps_per_epoch"]:]))}
        if plan.eval_every and (epoch + 1) % plan.eval_every == 0:
            model.eval()
            with torch.no_grad():
                record["eval_loss"] = loss_fn(model(X_eval), y_eval).item() + l2_penalty(groups)
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
