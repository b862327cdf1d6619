"""The report's independent tasks (one model, one study, the ladders on one Keras backend), each in its own
child process (triptych.isolation), at most ``jobs`` at a time, heaviest first.

    tasks = [Task("a model", start=lambda: Child(...), done=keep, failed=record)]
    run_tasks(tasks, jobs=2)       # returns when every task has finished (or failed)

A task whose child fails without a value (a crash, a kill, an error its own code did not record) has its
``failed`` called with the exception; the other tasks go on.  The children share the machine's cores:
each is told to use ``cores // jobs`` threads (OpenMP, MKL, OpenBLAS, TensorFlow), unless the caller has
set those itself.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from triptych.isolation import Child

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@dataclass
class Task:
    """``start()`` returns the running child; ``done(value)`` takes its result, ``failed(exc)`` its error."""

    label: str
    start: Callable[[], Child]
    done: Callable[[Any], None]
    failed: Callable[[BaseException], None]


def default_jobs() -> int:
    """One task per core."""
    return max(1, os.cpu_count() or 1)


def thread_env(jobs: int) -> dict[str, str]:
    """The thread counts for one of ``jobs`` children sharing the cores; variables already set are kept."""
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    return {name: threads for name in THREAD_VARIABLES if name not in os.environ}


def run_tasks(tasks: list[Task], jobs: int, poll: float = 0.1) -> None:
    """Run ``tasks`` in order, ``jobs`` children at a time; every child is closed before this returns."""
    waiting, running = list(tasks), {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                task = waiting.pop(0)
                try:
                    running[task.label] = (task, task.start())
                except Exception as exc:  # noqa: BLE001 — recorded by the task's owner
                    task.failed(exc)
            finished = [label for label, (_, child) in running.items() if child.process.poll() is not None]
            for label in finished:
                task, child = running.pop(label)
                try:
                    value = child.result()
                except Exception as exc:  # noqa: BLE001
                    task.failed(exc)
                else:
                    task.done(value)
            if not finished:
                time.sleep(poll)
    finally:
        for _, child in running.values():
            child.close()
