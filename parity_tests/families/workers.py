"""Examples in recycled worker processes, for the deep runs of ``parity_tests/test_random_families.py``.

Every example builds new networks in all three frameworks, and not all of what a framework keeps of them
goes when they do (TensorFlow's traced functions among it): in one process, memory and the time per
example grow with the examples run.  :class:`RecycledWorker` runs each example in a child process
(started with ``spawn``: a fresh interpreter, nothing inherited) that is replaced after ``per_child``
examples, so whatever it kept is handed back to the system with the process.  Each call also returns the
child's resident memory after the example, which the deep tests report.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

PER_CHILD_VARIABLE = "TRIPTYCH_DEEP_PER_PROCESS"
PER_CHILD_DEFAULT = 50  # examples per child process


def resident_mb() -> float:
    """This process's resident memory (VmRSS), in MiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def _start() -> None:
    """A child's set-up: the families registered, as the test module's fixture does in the parent."""
    from parity_tests.families import register_families

    register_families(replace=True)


def _measured(fn, args: tuple):
    return fn(*args), resident_mb()


class RecycledWorker:
    """``run(fn, *args)`` → (fn(*args) computed in a child process, the child's resident MiB after it); the
    child is replaced after ``per_child`` calls.  ``fn`` and its arguments and result must pickle (``fn``
    a module-level function); an exception in the child is raised here."""

    def __init__(self, per_child: int):
        if per_child < 1:
            raise ValueError(f"{PER_CHILD_VARIABLE} must be a whole number ≥ 1, got {per_child!r}")
        self.per_child, self.pool = per_child, None

    def run(self, fn, *args):
        if self.pool is None:
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                                            max_tasks_per_child=self.per_child)
        return self.pool.submit(_measured, fn, args).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
