"""The plain PyTorch loop ``triptych bench`` sets beside the API: zero_grad → forward → loss → backward →
step over shuffled minibatches, the way a tutorial writes it (rows gathered by index, as a shuffling
DataLoader does; no history, no checks)."""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
import torch

from triptych.registry import get_spec
from triptych.batching import epoch_batches
from torch_impl.setup import device
from torch_impl.training import as_tensors, loss_of, make_optimizer


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
    """``plan.epochs`` passes over X in the sampler's shuffled minibatches of ``plan.batch_size`` rows (the API's
    batches); ``on_epoch_end()`` after each."""
    model, criterion = net.native, loss_of(get_spec(net.model).module("torch"))
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], plan)
    X_t, y_t = as_tensors(X, y)
    model.train()
    for epoch in range(plan.epochs):
        for idx in epoch_batches(len(X), plan.batch_size, plan.seed, epoch):
            idx = torch.from_numpy(idx).to(device())
            optimizer.zero_grad()
            criterion(model(X_t[idx]), y_t[idx]).backward()
            optimizer.step()
        on_epoch_end()
