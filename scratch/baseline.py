"""The plain scratch training loop ``triptych bench`` sets beside the API: the network's own step
(loss and gradients, then the optimizer) over the shuffled minibatches, nothing else."""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from scratch.optimizers import make_optimizer
from triptych.batching import epoch_batches


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """NumPy's BLAS limited to ``threads`` while open (None: as it is); yields the count in effect."""
    with threadpool_limits(threads, user_api="blas") if threads else contextlib.nullcontext():
        yield max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def train_epochs(net, X: np.ndarray, y: np.ndarray, plan, on_epoch_end: Callable[[], None]) -> None:
    """``plan.epochs`` passes over X in the sampler's shuffled minibatches of ``plan.batch_size`` rows (the API's
    batches); ``on_epoch_end()`` after each."""
    network, optimizer = net.native.train(), make_optimizer(plan)
    for epoch in range(plan.epochs):
        for idx in epoch_batches(len(X), plan.batch_size, plan.seed, epoch):
            _, grads, _ = network.loss_and_grads(X[idx], y[idx], input_grad=False)
            optimizer.step(network.params(), grads)
        on_epoch_end()
