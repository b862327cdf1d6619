"""Triptych: classic neural networks written three times (NumPy from scratch, PyTorch, Keras 3), proven equal.

The public API::

    from triptych import get_framework, MODELS, register_model
    fw = get_framework("torch")                       # "scratch" | "torch" | "keras"
    net = fw.build(name, seed=0, dtype="float64", **overrides)   # name: any of MODELS

Nothing here imports torch, TensorFlow or JAX: a framework is imported when it is first asked for.
"""
from triptych.frameworks import FRAMEWORKS, Framework, FrameworkUnavailable, Net, TrainPlan, get_framework
from triptych.registry import (MODELS, STUDIES, DataSource, Experiment, ModelSpec, StudyResult, StudySpec,
                               get_spec, get_study, load_plugin, register_model, register_study, resolve,
                               unregister_model)

__all__ = ["FRAMEWORKS", "MODELS", "STUDIES", "DataSource", "Experiment", "Framework", "FrameworkUnavailable",
           "ModelSpec", "Net", "StudyResult", "StudySpec", "TrainPlan", "get_framework", "get_spec", "get_study",
           "load_plugin", "register_model", "register_study", "resolve", "unregister_model"]
