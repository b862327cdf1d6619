"""A quiet start-up: no TensorFlow, absl or oneDNN start-up line on stderr unless TRIPTYCH_VERBOSE=1, while
real warnings and errors still reach it; and Keras set up by ``keras_impl.setup.configure()``, not by an import.

Each check runs in a fresh process (TensorFlow prints its start-up lines once, when it is first imported),
with ``TF_CPP_MIN_LOG_LEVEL`` unset: some of the lines ignore it anyway.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a start-up line looks like, written here apart from keras_impl.startup_lines' own list: any C++ log
# line ("I0000 00:00:1796308141.046901   13138 port.cc:153] …", or the older "2024-01-31 10:00:00.0: I …")
# and the words of the lines TensorFlow prints as it starts.
CPP_LOG_LINE = re.compile(r"^([IWEF]\d{4} \S+\s+\d+ \S+:\d+\]|\d{4}-\d\d-\d\d [\d:.]+: [IWEF] \S+:\d+\])")
STARTUP_WORDS = ("absl::InitializeLog", "oneDNN", "cpu_feature_guard", "TensorFlow binary", "rebuild TensorFlow",
                 "cuda", "TensorRT")


def startup_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if CPP_LOG_LINE.match(line) or any(word in line for word in STARTUP_WORDS)]


def run(args: list[str], **env) -> subprocess.CompletedProcess:
    """``python args`` from the checkout, with TF_CPP_MIN_LOG_LEVEL, TRIPTYCH_VERBOSE and KERAS_BACKEND unset
    unless given in ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TRIPTYCH_VERBOSE",
                                                              "KERAS_BACKEND")}
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
                          timeout=300)


def test_train_on_keras_prints_no_startup_line_and_an_error_still_reaches_stderr():
    """``triptych train xor --framework keras``: nothing of TensorFlow's on stderr; then the same command with a
    bad option, which fails as the model is built (after Keras and TensorFlow started): its error is on
    stderr, still without a start-up line."""
    quiet = run(["-m", "triptych.cli", "train", "xor", "--framework", "keras", "--epochs", "1"])
    assert quiet.returncode == 0, quiet.stderr
    assert startup_lines(quiet.stderr) == [], quiet.stderr
    assert "[keras]" in quiet.stdout
    failing = run(["-m", "triptych.cli", "train", "xor", "--framework", "keras", "--epochs", "1", "--set", "init=nope"])
    assert failing.returncode != 0
    assert "triptych: error: model 'xor': option 'init'" in failing.stderr, failing.stderr
    assert startup_lines(failing.stderr) == [], failing.stderr


def test_the_reports_environment_table_reads_tensorflows_threads_without_a_startup_line():
    """A parallel report's own process never builds a Keras model (its children do), yet its environment table
    asks TensorFlow for its threads: that import, too, goes through Keras's set-up (it printed TensorFlow's
    start-up lines at the end of every default report)."""
    table = run(["-c", "from reports.environment import environment; print(environment()['threads'])"])
    assert table.returncode == 0, table.stderr
    assert "TensorFlow intra-op" in table.stdout
    assert startup_lines(table.stderr) == [], table.stderr


def test_verbose_shows_the_startup_lines_and_importing_keras_impl_changes_nothing():
    """With TRIPTYCH_VERBOSE=1, configure() leaves stderr alone: TensorFlow's start-up lines show (so the quiet
    check above can fail).  Before configure(), importing every keras_impl module (on Keras on torch) sets no
    environment variable and leaves Keras's result_type unpatched; configure() then patches it."""
    probe = textwrap.dedent("""
        import importlib, os, pkgutil, sys
        import keras  # Keras and torch set variables of their own as they load
        from keras.src.backend.common import dtypes
        import keras_impl
        before = dict(os.environ)
        for info in pkgutil.iter_modules(keras_impl.__path__):
            if info.name != "descent":  # the descent study runs on TensorFlow only
                importlib.import_module(f"keras_impl.{info.name}")
        assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
        assert dtypes.BIT64_TO_BIT32_DTYPE.get("float64") != "float64", "patched at import"
        from keras_impl import setup
        assert not setup.float64_patched
        setup.configure()
        print("configured", keras.backend.backend(), keras.backend.result_type("float64"))
    """)
    verbose = run(["-c", "from keras_impl import setup; setup.configure()"], TRIPTYCH_VERBOSE="1")
    assert verbose.returncode == 0, verbose.stderr
    assert startup_lines(verbose.stderr), f"no start-up line even verbose:\n{verbose.stderr}"
    on_torch = run(["-c", probe], KERAS_BACKEND="torch")
    assert on_torch.returncode == 0, on_torch.stderr
    assert on_torch.stdout.split() == ["configured", "torch", "float64"], on_torch.stdout + on_torch.stderr


def test_the_guard_drops_startup_lines_only_and_replays_the_rest_even_on_an_error():
    """keras_impl.startup_lines.dropped() around writes to file descriptor 2 (as C++ writes) and to
    sys.stderr: the start-up lines go; a warning, what is written after the guard, and an exception raised
    inside a second guard reach stderr, in order."""
    script = textwrap.dedent("""
        import os, sys
        from keras_impl.startup_lines import dropped
        with dropped():
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
            os.write(2, b"I0000 00:00:1796308141.046901   13138 port.cc:153] oneDNN custom operations are on. "
                        b"You may see slightly different numerical results.\\n")
            os.write(2, b"E0000 00:00:1796308141.046901   13138 cuda_dnn.cc:8310] Unable to register cuDNN factory\\n")
            os.write(2, b"W0000 00:00:1796308141.046901   13138 op_kernel.cc:1830] a real warning\\n")
            print("a Python warning", file=sys.stderr)
        os.write(2, b"after the guard\\n")
        with dropped():
            raise RuntimeError("a real error")
    """)
    result = run(["-c", script])
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[:3] == ["W0000 00:00:1796308141.046901   13138 op_kernel.cc:1830] a real warning",
                         "a Python warning", "after the guard"], result.stderr
    assert lines[-1] == "RuntimeError: a real error"
    assert not any("oneDNN" in line or "absl" in line or "cuDNN" in line for line in lines), result.stderr
