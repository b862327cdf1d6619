"""Keras on every backend: the parity ladder with Keras on TensorFlow, JAX or torch.

Keras reads ``KERAS_BACKEND`` once, when it is imported, so each backend runs in a process of its
own (triptych.isolation).  In the results Keras is a framework of its own per backend: ``keras``
(TensorFlow), ``keras[jax]``, ``keras[torch]``; pairs read ``scratch↔keras[jax]``, ``torch↔keras[jax]``.

    results = run_ladders("jax", names, dtypes=("float64", "float32"))   # names: any of MODELS
"""
from __future__ import annotations

import importlib.util
import os
import sys
from typing import Callable, Iterable

from triptych.frameworks import FrameworkUnavailable, get_framework
from triptych.isolation import Child
from triptych.packages import requirement
from triptych.parity import RungResult
from triptych.tolerances import ALL_RUNGS

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
KERAS_RUNGS = ALL_RUNGS[:-1]  # the rungs with Keras in them (6 is scratch against finite differences)


def keras_label(backend: str) -> str:
    """The name of Keras on ``backend`` in parity tables: "keras" on TensorFlow, else "keras[backend]"."""
    return "keras" if backend == "tensorflow" else f"keras[{backend}]"


def check_backend(backend: str) -> str:
    """``backend`` if it is a Keras backend whose package is installed; a ValueError or
    FrameworkUnavailable (with the install command) otherwise.  Imports nothing."""
    if backend not in KERAS_BACKENDS:
        raise ValueError(f"unknown Keras backend {backend!r}; expected one of {', '.join(KERAS_BACKENDS)}")
    if importlib.util.find_spec(backend) is None:
        package = {"tensorflow": "tensorflow-cpu", "jax": "jax", "torch": requirement("torch")}[backend]
        raise FrameworkUnavailable(f"Keras backend {backend!r} is not available; install it with: pip install {package}")
    return backend


def use_keras_backend(backend: str) -> None:
    """Make Keras run on ``backend`` in this process (``KERAS_BACKEND``); too late once Keras runs on another."""
    check_backend(backend)
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != backend:
        raise ValueError(f"Keras already runs on {keras.backend.backend()!r} in this process; "
                         f"start a new one with KERAS_BACKEND={backend}")
    os.environ["KERAS_BACKEND"] = backend


def ladders_on_backends(backends: Iterable[str], models: list[str], dtypes: list[str], frameworks=None,
                        progress: Callable[[dict], None] | None = None) -> list[RungResult]:
    """The whole ladder once per backend, one after the other (``progress`` gets "backend" too): the
    rows without Keras (scratch↔torch, scratch↔FD) come from the first backend only."""
    backends = [check_backend(b) for b in dict.fromkeys(backends)]
    results = []
    for i, backend in enumerate(backends):
        rungs = ALL_RUNGS if i == 0 else KERAS_RUNGS
        report = progress and (lambda record, backend=backend: progress({**record, "backend": backend}))
        results += [r for r in run_ladders(backend, models, dtypes, rungs, frameworks, report)
                    if i == 0 or keras_label(backend) in r.pair.split("↔")]
    return sorted(results, key=lambda r: (models.index(r.model), dtypes.index(r.dtype), r.rung))


def run_ladders(backend: str, models: Iterable[str], dtypes: Iterable[str] = ("float64",), rungs=KERAS_RUNGS,
                frameworks=None, progress: Callable[[dict], None] | None = None) -> list[RungResult]:
    """The parity ladder of every model in ``models`` and every dtype with Keras on ``backend``, in a
    child process with ``KERAS_BACKEND=backend`` (which loads this process's plugins first: models a user
    registered); ``progress`` gets {"model", "dtype"} as each ladder starts."""
    return results_of(start_ladders(backend, models, dtypes, rungs, frameworks, progress))


def start_ladders(backend: str, models: Iterable[str], dtypes: Iterable[str] = ("float64",), rungs=KERAS_RUNGS,
                  frameworks=None, progress: Callable[[dict], None] | None = None) -> Child:
    """:func:`run_ladders` without waiting: the child process, running (``results_of`` waits for it)."""
    jobs = [(model, dtype) for model in models for dtype in dtypes]
    return Child("triptych.backends:_ladders", dict(backend=check_backend(backend), jobs=jobs, rungs=tuple(rungs),
                                                    frameworks=frameworks),
                 env={"KERAS_BACKEND": backend}, progress=progress)


def results_of(child: Child) -> list[RungResult]:
    return [RungResult(**r) for r in child.result()]


def _ladders(backend, jobs, rungs, frameworks, progress=None) -> list[dict]:
    """In the child: the ladders, as dicts."""
    from triptych.parity import run_ladder

    label = get_framework("keras").label
    if label != keras_label(backend):
        raise RuntimeError(f"asked for Keras on {backend!r}, but this process runs {label!r}")
    results = []
    for model, dtype in jobs:
        if progress:
            progress({"model": model, "dtype": dtype})
        results += [r.as_dict() for r in run_ladder(model, dtype, frameworks=frameworks, rungs=rungs)]
    return results
