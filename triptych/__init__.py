"""Triptych: classic neural networks written three times (NumPy from scratch, PyTorch, Keras 3), proven equal.

The public API::

    from triptych import get_framework, MODELS, register_model
    fw = get_framework("torch")                       # "scratch" | "torch" | "keras"
    net = fw.build(name, seed=0, dtype="float64", **overrides)   # name: any of MODELS

    result = triptych.compare(torch_model, keras_model, X)   # any model pair, rung by rung (docs/porting.md)
    triptych.transfer(torch_model, keras_model)               # weights and state either way, exact

Nothing here imports torch, TensorFlow or JAX: a framework is imported when it is first asked for.
"""
from triptych.frameworks import FRAMEWORKS, Framework, FrameworkUnavailable, Net, TrainPlan, get_framework
from triptych.packages import porting_module
from triptych.registry import (MODELS, STUDIES, DataSource, Experiment, ModelSpec, StudyResult, StudySpec,
                               get_spec, get_study, load_plugin, register_model, register_study, resolve,
                               unregister_model)

__all__ = ["FRAMEWORKS", "MODELS", "STUDIES", "DataSource", "Experiment", "Framework", "FrameworkUnavailable",
           "ModelSpec", "Net", "StudyResult", "StudySpec", "TrainPlan", "get_framework", "get_spec", "get_study",
           "compare", "load_plugin", "register_model", "register_study", "resolve", "transfer", "unregister_model"]


def compare(torch_model, keras_model, X, **options):
    """The parity ladder for any torch model and its Keras port: :func:`porting.ladder.compare`."""
    return porting_module("ladder").compare(torch_model, keras_model, X, **options)


def transfer(src, dst, X=None, pairs=None):
    """Weights and state from a torch model to its Keras port or back, exact: :func:`porting.pairing.transfer`."""
    return porting_module("pairing").transfer(src, dst, X, pairs)
