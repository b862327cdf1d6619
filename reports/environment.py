"""The machine and library versions a report was made with."""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import numpy as np

from triptych.frameworks import get_framework

PACKAGES = ("torch", "tensorflow-cpu", "tensorflow", "keras", "pandas", "matplotlib", "mlxtend")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def thread_counts() -> str:
    """torch's intra-op threads and TensorFlow's configured ones (0 means TensorFlow's default)."""
    parts = []
    try:
        import torch
        parts.append(f"torch {torch.get_num_threads()}")
    except ImportError:
        parts.append("torch not installed")
    try:
        get_framework("keras")  # its set-up first: TensorFlow then starts with its start-up lines kept off stderr
        import tensorflow as tf
        parts.append(f"TensorFlow intra-op {tf.config.threading.get_intra_op_parallelism_threads()}, "
                     f"inter-op {tf.config.threading.get_inter_op_parallelism_threads()}")
    except ImportError:  # FrameworkUnavailable is one
        parts.append("TensorFlow not installed")
    return "; ".join(parts)


def environment() -> dict[str, str]:
    """Ordered {what: value} for the report's environment table."""
    env = {"Python": sys.version.split()[0], "NumPy": np.__version__}
    for package in PACKAGES:
        try:
            env[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    env.update({"platform": platform.platform(), "CPU": cpu_model(), "CPU cores": str(os.cpu_count()),
                "threads": thread_counts()})
    return env
