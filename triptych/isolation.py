"""Run one function in a fresh Python process with its own environment.

Some settings are read once per process, when a framework is first imported: Keras's backend
(``KERAS_BACKEND``), the number of host devices XLA makes (``XLA_FLAGS``), TensorFlow's logical
devices, a torch.distributed rank.  Whatever needs one of them runs here, in a child:

    child = Child("triptych.backends:_ladders", dict(jobs=...), env={"KERAS_BACKEND": "jax"})
    value = child.result()          # what the function returned, or its exception raised again

The call and its result travel as pickles through a private temporary directory (only between
this process and its own child; the result file is written to a temporary name and renamed).
Lines the function sends through its ``progress`` argument reach the parent's ``progress`` as
they happen.  A ValueError or a missing framework in the child is raised again as such in the
parent; anything else becomes a RuntimeError carrying the child's traceback.
"""
from __future__ import annotations

import importlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

_PROGRESS = "triptych-progress "
_PLUGINS = "__triptych_plugins__"  # the call's entry listing the parent's plugins, loaded before the target
_TAIL = 4000  # characters of a failed child's output quoted in the error


class Child:
    """``target`` ("module:function") called with ``kwargs`` in a new process; ``env`` is added to
    this process's environment.  ``progress``, if given, receives the dicts the function passes to
    its own ``progress`` argument."""

    def __init__(self, target: str, kwargs: dict, env: dict[str, str] | None = None,
                 progress: Callable[[dict], None] | None = None):
        self.target, self.progress = target, progress
        self.dir = Path(tempfile.mkdtemp(prefix="triptych-child-"))
        from triptych.registry import LOADED_PLUGINS

        with open(self.dir / "call.pkl", "wb") as f:  # the parent's plugins: the child knows the same models
            pickle.dump({**kwargs, **({"progress": True} if progress else {}), _PLUGINS: list(LOADED_PLUGINS)}, f)
        self.log = open(self.dir / "output.txt", "w+")
        root = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "triptych.isolation", target, str(self.dir)],
            env={**os.environ, "PYTHONPATH": path, **(env or {})}, text=True,
            stdout=subprocess.PIPE if progress else self.log, stderr=self.log)
        self.printed: list[str] = []  # the child's other output lines, when progress takes its stdout
        self.reader = threading.Thread(target=self._read_progress, daemon=True) if progress else None
        if self.reader:
            self.reader.start()

    def _read_progress(self) -> None:
        for line in self.process.stdout:
            if line.startswith(_PROGRESS):
                self.progress(json.loads(line[len(_PROGRESS):]))
            else:
                self.printed.append(line)

    def failed(self) -> bool:
        """Whether the child has ended without a value."""
        return self.process.poll() is not None and "value" not in self._read_result()

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the child; its return value, or its exception raised here."""
        try:
            self.process.wait(timeout)
            if self.reader:
                self.reader.join()
            return self._outcome()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child if it still runs and remove its directory."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.reader:
            self.reader.join()
        if self.process.stdout:
            self.process.stdout.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _read_result(self) -> dict:
        path = self.dir / "result.pkl"
        if not path.exists():
            return {}
        with open(path, "rb") as f:
            return pickle.load(f)

    def _outcome(self) -> Any:
        outcome = self._read_result()
        if not outcome:
            self.log.seek(0)
            output = "".join(self.printed) + self.log.read()
            raise RuntimeError(f"{self.target} in a child process exited with status {self.process.returncode} "
                               f"and no result:\n{output[-_TAIL:]}")
        if "value" in outcome:
            return outcome["value"]
        kind, message, trace = outcome["error"]
        if kind == "ValueError":
            raise ValueError(message)
        if kind == "ImportError":  # a missing framework (FrameworkUnavailable is one too)
            from triptych.frameworks import FrameworkUnavailable

            raise FrameworkUnavailable(message)
        raise RuntimeError(f"{self.target} failed in a child process:\n{trace[-_TAIL:]}")


def gather(children: list[Child], poll: float = 0.2) -> list[Any]:
    """The results of children that work together (e.g. the ranks of one process group): when one
    fails, the others are stopped (they would wait for it) and its error is raised."""
    try:
        while any(child.process.poll() is None for child in children):
            failed = next((child for child in children if child.failed()), None)
            if failed:
                return [failed.result()]  # raises
            time.sleep(poll)
        return [child.result() for child in children]
    finally:
        for child in children:
            child.close()


def _send_progress(record: dict) -> None:
    print(_PROGRESS + json.dumps(record), flush=True)


def _main(target: str, directory: str) -> int:
    import traceback

    folder = Path(directory)
    with open(folder / "call.pkl", "rb") as f:
        kwargs = pickle.load(f)
    if kwargs.pop("progress", False):
        kwargs["progress"] = _send_progress
    plugins = kwargs.pop(_PLUGINS, [])
    module, _, name = target.partition(":")
    try:
        from triptych.registry import PRELOADED_PLUGINS, load_plugin

        for path in plugins:
            load_plugin(path)
            PRELOADED_PLUGINS.add(path)
        outcome = {"value": getattr(importlib.import_module(module), name)(**kwargs)}
    except Exception as exc:  # noqa: BLE001 — every failure goes back to the parent, which decides
        kind = "ValueError" if isinstance(exc, ValueError) else "ImportError" if isinstance(exc, ImportError) else ""
        outcome = {"error": (kind or type(exc).__name__, str(exc), traceback.format_exc())}
    partial = folder / "result.pkl.partial"
    with open(partial, "wb") as f:
        pickle.dump(outcome, f)
    os.replace(partial, folder / "result.pkl")
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:]))
