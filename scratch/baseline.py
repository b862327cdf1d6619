"""The plain scratch training loop ``triptych bench`` sets beside the API: the network's own step
(loss and gradients, then the optimizer) over consecutive slices of X, nothing else."""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from scratch.optimizers import make_optimizer


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """NumPy's BLAS limited to ``threads`` while open (None: as it is); yields the count in effect."""
    with threadpool_limits(threads, user_api="blas") if threads else contextlib.nullcontext():
        yield max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def train_epochs(net, X: np.ndarray, y: np.ndarray, plan, on_epoch_end: Callable[[], None]) -> None:
    """``plan.epochs`` passes over X in order, ``plan.batch_size`` rows a step; ``on_epoch_end()`` after each."""
    network, optimizer, batch = net.native.train(), make_optimizer(plan), plan.batch_size
    for _ in range(plan.epochs):
        for start in range(0, len(X), batch):
            _, grads, _ = network.loss_and_grads(X[start:start + batch], y[start:start + batch], input_grad=False)
            optimizer.step(network.params(), grads)
        on_epoch_end()
