"""The plain PyTorch loop ``triptych bench`` sets beside the API: zero_grad → forward → loss → backward →
step over consecutive slices of the tensors, the way a tutorial writes it (no sampler, no history)."""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
import torch

from triptych.registry import get_spec
from torch_impl.training import as_tensors, make_optimizer


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """torch's intra-op threads set to ``threads`` while open (None: as they are); yields the count in effect."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def train_epochs(net, X: np.ndarray, y: np.ndarray, plan, on_epoch_end: Callable[[], None]) -> None:
    """``plan.epochs`` passes over X in order, ``plan.batch_size`` rows a step; ``on_epoch_end()`` after each."""
    model, loss_fn = net.native, get_spec(net.model).module("torch").loss_fn()
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], plan)
    X_t, y_t = as_tensors(X, y)
    model.train()
    for _ in range(plan.epochs):
        for xb, yb in zip(X_t.split(plan.batch_size), y_t.split(plan.batch_size)):
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        on_epoch_end()
