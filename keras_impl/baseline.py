"""The plain Keras run ``triptych bench`` sets beside the API: compile, then ``model.fit`` on the in-memory
arrays, shuffled by fit itself (its default), with no callbacks of ours but an epoch-end hook."""
from __future__ import annotations

import contextlib
import os
from typing import Callable

import keras
import numpy as np

from triptych.registry import get_spec
from keras_impl.training import floatx, make_optimizer


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """TensorFlow's intra- and inter-op pools set to ``threads`` (None: as they are), which TensorFlow allows
    only before its first operation; yields the intra-op count in effect (None on other Keras backends)."""
    if keras.backend.backend() != "tensorflow":
        yield None
        return
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already running: the pools keep their size, and the figure says so
            pass
    yield intra_op_threads(tf.config.threading.get_intra_op_parallelism_threads())


def intra_op_threads(configured: int) -> int:
    """The intra-op pool's size from TensorFlow's setting ``configured``: that, or where it is 0 (TensorFlow's
    "default"), what TensorFlow then starts: TF_NUM_INTRAOP_THREADS when a positive integer, else the CPUs this
    process may run on (its affinity, as ``taskset`` sets it, not the machine's count)."""
    if configured > 0:
        return configured
    env = os.environ.get("TF_NUM_INTRAOP_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def train_epochs(net, X: np.ndarray, y: np.ndarray, plan, on_epoch_end: Callable[[], None]) -> None:
    """``plan.epochs`` passes over X in fit's own shuffled minibatches of ``plan.batch_size`` rows;
    ``on_epoch_end()`` after each."""
    with floatx(net.dtype):
        net.native.compile(optimizer=make_optimizer(plan), loss=get_spec(net.model).module("keras").loss())
        net.native.fit(X, y, batch_size=plan.batch_size, epochs=plan.epochs, shuffle=True, verbose=0,
                       callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: on_epoch_end())])


class MemoryPool:
    """TensorFlow's CPU allocator keeps the large tensors a step frees for the next step, so the resident
    memory a warm step adds does not show them: the allocator's own peak does (reset at ``start``)."""

    def start(self) -> None:
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats("CPU:0")

    def stop(self) -> float:
        import tensorflow as tf

        return tf.config.experimental.get_memory_info("CPU:0")["peak"] / 2 ** 20


def memory_pool() -> MemoryPool | None:
    """The framework's own memory pool, where it keeps one the bench must ask (TensorFlow's), else None."""
    return MemoryPool() if keras.backend.backend() == "tensorflow" else None

