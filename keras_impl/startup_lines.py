"""TensorFlow's start-up lines, and a guard that keeps them off stderr while TensorFlow is imported.

Importing TensorFlow (which ``import keras`` does on the TensorFlow backend) prints, from C++, straight to
file descriptor 2 and whatever ``TF_CPP_MIN_LOG_LEVEL`` says::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796308141.046901   13138 port.cc:153] oneDNN custom operations are on. You may see …
    I0000 00:00:1796308141.090212   13138 cpu_feature_guard.cc:227] This TensorFlow binary is optimized …
    To enable the following instructions: AVX2 AVX512F …, in other operations, rebuild TensorFlow with …

:func:`dropped` points descriptor 2 at a temporary file for the length of the import, then writes back to
stderr every line that is not one of these (a real warning or error still reaches the user).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

# A C++ log line: absl's "I0000 00:00:1796308141.046901   13138 port.cc:153] …" or TensorFlow's older
# "2024-01-31 10:00:00.000000: I tensorflow/core/util/port.cc:113] …".
_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} \S+\s+\d+ |\d{4}-\d\d-\d\d [\d:.]+: [IWEF] )\S+:\d+\] (?P<message>.*)$")
STARTUP_MESSAGES = (  # how the messages TensorFlow logs as it starts begin
    "oneDNN custom operations are on",
    "This TensorFlow binary is optimized",
    "Your CPU supports instructions that this TensorFlow binary was not compiled to use",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "Could not find cuda drivers on your machine",
    "failed call to cuInit",
    "TF-TRT Warning: Could not find TensorRT",
)
STARTUP_LINES = (  # whole lines printed without a log prefix
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$"),
)


def is_startup_line(line: str) -> bool:
    """Whether ``line`` (without its newline) is one of TensorFlow's start-up lines."""
    match = _LOG_LINE.match(line)
    if match:
        return match["message"].startswith(STARTUP_MESSAGES)
    return any(pattern.match(line) for pattern in STARTUP_LINES)


@contextlib.contextmanager
def dropped():
    """Inside: what is written to file descriptor 2 (C++ and Python alike) is held back; on leaving, even by
    an exception, descriptor 2 is restored and every held line that :func:`is_startup_line` does not know is
    written to ``sys.stderr``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().decode(errors="replace").splitlines(keepends=True)
                    if not is_startup_line(line.rstrip("\r\n"))]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
