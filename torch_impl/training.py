"""The books kept around the explicit loops of the torch_impl model files, and the optimizer factory.

Each model file's ``train`` writes torch's loop itself; this module keeps only the bookkeeping:

    data = Batches(*as_tensors(X, y), plan)    # tensors on the device; data.epoch(e): the shared batches
    run = Run(model, data, criterion, optimizer, plan)
    for epoch in run.epochs():                 # after each epoch: LR schedule, evaluation, keep-best, progress
        run.model.train()
        for X_b, y_b in data.epoch(epoch):
            optimizer.zero_grad()
            loss = criterion(run.model(X_b), y_b)
            run.record(loss)                   # the step's loss for the history (NaN/inf checked per epoch)
            loss.backward()
            optimizer.step()
    return run.history

Under torch.distributed (a process group of R processes, triptych.distributed) the same loop is
data-parallel: ``run.model`` is the model wrapped in DistributedDataParallel, process r takes the r-th of
R equal shares of every batch, DDP averages the R gradients of the share means (= the gradient of the
batch mean), and the recorded loss is the mean of the R share losses.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from torch_impl.setup import device
from triptych.batching import epoch_batches, steps_per_epoch

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}


# ---------------------------------------------------------------- optimizers


def optimizer_options(plan) -> dict:
    """``plan.options`` in torch's names: Adam's beta_1, beta_2 → ``betas``; epsilon → ``eps``; RMSprop's rho →
    ``alpha``; momentum, nesterov, centered, weight_decay as they are.  An option the plan leaves out keeps
    torch's default (SGD momentum 0; Adam betas (0.9, 0.999), eps 1e-8; RMSprop alpha 0.99, eps 1e-8)."""
    o = dict(plan.options)
    if "beta_1" in o or "beta_2" in o:
        o["betas"] = (o.pop("beta_1", 0.9), o.pop("beta_2", 0.999))
    for ours, torchs in (("epsilon", "eps"), ("rho", "alpha")):
        if ours in o:
            o[torchs] = o.pop(ours)
    return o


def make_optimizer(parameters, plan) -> torch.optim.Optimizer:
    """torch.optim.SGD / Adam / RMSprop as ``plan.optimizer`` names, over ``parameters`` (tensors or parameter
    groups), with ``plan.lr`` and :func:`optimizer_options`: the shared factory for an optimizer other than a
    model's recipe (its file builds that one itself)."""
    return OPTIMIZERS[plan.optimizer](parameters, lr=plan.lr, **optimizer_options(plan))


def param_groups(module, model: nn.Module) -> list[dict]:
    """The model's parameter groups: ``module.param_groups(model)`` where the model file declares them
    (e.g. weight decay on some parameters only), else one group of every trainable parameter."""
    if hasattr(module, "param_groups"):
        return module.param_groups(model)
    return [{"params": [p for p in model.parameters() if p.requires_grad]}]


def with_plan_decay(groups: list[dict], plan) -> list[dict]:
    """The groups an optimizer gets: the plan's ``weight_decay`` (if any) added to each group's own (a model's
    L2); a group without one takes the plan's through the optimizer's default."""
    decay = plan.options.get("weight_decay", 0.0)
    return [{**g, "weight_decay": g["weight_decay"] + decay} if "weight_decay" in g else g for g in groups]


def l2_penalty(groups) -> float:
    """Σ over groups of wd/2·Σ‖p‖²: the term a group's ``weight_decay`` wd minimises (torch adds its
    gradient wd·p to p.grad in ``step``; the loss tensor never contains it).  0 at once where no group decays
    (the loop asks every step)."""
    decaying = [g for g in groups if g.get("weight_decay")]
    if not decaying:
        return 0.0
    with torch.no_grad():
        return sum(g["weight_decay"] / 2 * sum(float(torch.sum(p * p)) for p in g["params"]) for g in decaying)


def loss_of(module) -> nn.Module:
    """The model file's loss module, ``module.loss()``.  A plugin written before the hook was renamed may
    still define ``loss_fn()``: it is used, with a FutureWarning (shown to users) saying to rename it."""
    if hasattr(module, "loss"):
        return module.loss()
    if hasattr(module, "loss_fn"):
        warnings.warn(f"{module.__name__}: the torch loss hook is now called loss(); rename loss_fn()",
                      FutureWarning, stacklevel=2)
        return module.loss_fn()
    raise ValueError(f"{module.__name__}: a torch model module needs loss() -> nn.Module")


# ---------------------------------------------------------------- data


def as_tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """NumPy → tensors on :func:`torch_impl.setup.device` (on the CPU without copying); integer labels stay
    int64 (what CrossEntropyLoss wants)."""
    return (torch.from_numpy(np.ascontiguousarray(X)).to(device()),
            torch.from_numpy(np.ascontiguousarray(y)).to(device()))


def rank_and_replicas() -> tuple[int, int]:
    """(this process's rank, the replica count): (0, 1) outside a torch.distributed process group."""
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


class Batches:
    """The tensors X (N, …), y (N, …) and, per epoch, the shared seeded minibatches of their rows
    (triptych.batching: the rows, in the order, that scratch and Keras take; ``plan.batch_size`` None: one
    full batch).  Under torch.distributed, :meth:`epoch` yields this process's share of every batch."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, plan):
        self.X, self.y, self.plan = X, y, plan
        self.rank, self.replicas = rank_and_replicas()

    def __len__(self) -> int:
        """Steps per epoch."""
        return steps_per_epoch(len(self.X), self.plan.batch_size)

    def epoch(self, epoch: int):
        """(X_b, y_b) for each minibatch of 0-based ``epoch``."""
        for idx in epoch_batches(len(self.X), self.plan.batch_size, self.plan.seed, epoch):
            if self.replicas > 1:
                idx = np.array_split(idx, self.replicas)[self.rank]
            idx = torch.from_numpy(idx).to(device())
            yield self.X[idx], self.y[idx]


# ---------------------------------------------------------------- the books


def _mean_over_replicas(loss: torch.Tensor, replicas: int) -> torch.Tensor:
    """The loss of the whole batch: the mean of the replicas' (equal-share) losses."""
    if replicas > 1:
        loss = loss.clone()
        dist.all_reduce(loss)
        loss /= replicas
    return loss


class Run:
    """One training run's bookkeeping around a model file's loop.

    ``run.model``: the model to call, wrapped in DistributedDataParallel under torch.distributed.
    ``run.epochs()``: 0 … plan.epochs − 1; after each epoch the epoch's recorded losses join
    ``history["loss"]`` (a NaN/inf stops training, naming its step), the learning rate follows
    ``plan.lr_at(epoch)`` through a LambdaLR scheduler, every ``plan.eval_every`` epochs the model is
    evaluated (on X_val/y_val, else the training set), with ``plan.keep_best`` the best state_dict is kept
    (and restored at the end), and ``plan.progress`` gets the epoch's record.  The model ends in eval mode.
    ``run.record(loss)``: a step's loss (mean over replicas) plus the L2 terms of the optimizer's parameter
    groups (:func:`l2_penalty`: with their ``weight_decay``, the model's own and the plan's, that is the
    objective the optimizer minimises, as scratch's and Keras's losses include their penalties); kept as
    tensors and read once per epoch (no sync inside the loop).
    ``run.history``: {"loss", "eval", "best_epoch", "steps_per_epoch"}."""

    def __init__(self, model: nn.Module, data: Batches, criterion: nn.Module, optimizer: torch.optim.Optimizer,
                 plan):
        self.model = DistributedDataParallel(model) if data.replicas > 1 else model
        self.data, self.criterion, self.plan, self.groups = data, criterion, plan, optimizer.param_groups
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: plan.lr_at(epoch) / plan.lr)
        self.history = {"loss": [], "eval": [], "best_epoch": None, "steps_per_epoch": len(data)}
        self._eval_data = as_tensors(plan.X_val, plan.y_val) if plan.X_val is not None else (data.X, data.y)
        self._losses: list[torch.Tensor] = []
        self._best_loss, self._best_state = np.inf, None

    def record(self, loss: torch.Tensor) -> None:
        self._losses.append(_mean_over_replicas(loss.detach(), self.data.replicas) + l2_penalty(self.groups))

    def epochs(self):
        for epoch in range(self.plan.epochs):
            self._losses = []
            yield epoch
            self._end_epoch(epoch)
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        self.model.eval()

    def _end_epoch(self, epoch: int) -> None:
        plan, history = self.plan, self.history
        plan.record_losses(history, torch.stack(self._losses).tolist())
        self.scheduler.step()
        record = {"epoch": epoch + 1, "loss": float(np.mean(history["loss"][-history["steps_per_epoch"]:]))}
        if plan.eval_every and (epoch + 1) % plan.eval_every == 0:
            record["eval_loss"] = self._evaluate()
            history["eval"].append({"epoch": epoch + 1, "loss": record["eval_loss"]})
            if plan.keep_best and record["eval_loss"] < self._best_loss:
                self._best_loss, history["best_epoch"] = record["eval_loss"], epoch + 1
                self._best_state = copy.deepcopy(self.model.state_dict())
        if plan.progress:
            plan.progress(record)

    def _evaluate(self) -> float:
        """Eval-mode loss (plus the L2 terms) on X_val/y_val, else on the training tensors."""
        X, y = self._eval_data
        self.model.eval()
        with torch.no_grad():
            return self.criterion(self.model(X), y).item() + l2_penalty(self.groups)


def fit(model: nn.Module, criterion: nn.Module, X: np.ndarray, y: np.ndarray, plan, groups=None) -> dict:
    """The loop the model files write out, in one call, for a model module that needs nothing else of its
    own (a user's plugin, the test families): ``plan.optimizer`` from :func:`make_optimizer` over ``groups``
    (default: every trainable parameter) plus the plan's weight decay, then zero_grad → forward → loss →
    backward → step over the shared batches, the books kept by :class:`Run`."""
    data = Batches(*as_tensors(X, y), plan)
    groups = groups or [{"params": [p for p in model.parameters() if p.requires_grad]}]
    optimizer = make_optimizer(with_plan_decay(groups, plan), plan)
    run = Run(model, data, criterion, optimizer, plan)
    for epoch in run.epochs():
        run.model.train()
        for X_b, y_b in data.epoch(epoch):
            optimizer.zero_grad()
            loss = criterion(run.model(X_b), y_b)
            run.record(loss)
            loss.backward()
            optimizer.step()
    return run.history
