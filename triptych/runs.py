"""Train one model in several frameworks from the same start and score it on its test set: the one
orchestration of build → shared weights → train → evaluate that ``triptych train``, the house study
and the report use, and the one progress printer of their epoch lines.

    exp = load_experiment(model)
    start = initial_weights("scratch", exp, seed=0, dtype="float32")     # canonical weights
    run = train_and_evaluate("torch", exp, start, seed=0, dtype="float32", epochs=3,
                             progress=epoch_printer(3, print))
    run.history["loss"], run.outputs, run.metrics                       # per step; predict(X_test); metrics

Training evaluates on the test split (``X_val``/``y_val``) where the spec's recipe evaluates
(``eval_every``); every other option is ``Framework.train``'s (triptych.frameworks.train_plan).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from triptych.experiments import metrics
from triptych.frameworks import Framework, Net, get_framework
from triptych.registry import Experiment, get_spec


@dataclass
class TrainedRun:
    """One framework's trained net, its history, and its outputs and metrics on the test split."""

    framework: str
    fw: Framework
    net: Net
    initial_weights: dict[str, np.ndarray]  # canonical, as training started
    history: dict[str, Any]
    outputs: np.ndarray  # fw.predict(net, exp.X_test)
    metrics: dict[str, float]  # triptych.experiments.metrics of those outputs


def initial_weights(framework: str, exp: Experiment, seed: int, dtype: str, config: dict | None = None) -> dict:
    """The canonical weights ``framework`` draws for ``exp.model`` with ``seed`` (``config``: spec overrides,
    default the experiment's): the start every framework then loads."""
    fw = get_framework(framework)
    return fw.get_weights(fw.build(exp.model, seed=seed, dtype=dtype, **_config(exp, config)))


def train_and_evaluate(framework: str, exp: Experiment, weights: dict | None, seed: int, dtype: str,
                       config: dict | None = None, replicas: int = 1, **train) -> TrainedRun:
    """Build ``exp.model`` in ``framework`` (with ``seed``, which seeds training too; ``config`` or the
    experiment's overrides), load
    ``weights`` (None: keep this build's own; ``initial_weights`` of the result has them), train on the training split with ``train`` (the
    options of ``Framework.train``; data-parallel on ``replicas`` replicas, triptych.distributed), then
    predict the test split and score it."""
    fw = get_framework(framework)
    net = fw.build(exp.model, seed=seed, dtype=dtype, **_config(exp, config))
    if weights is not None:
        fw.set_weights(net, weights)
    start = fw.get_weights(net)
    if get_spec(exp.model).training.get("eval_every"):
        train = {"X_val": exp.X_test, "y_val": exp.y_test, **train}
    if replicas > 1:
        from triptych.distributed import train_net_replicated

        history = train_net_replicated(fw, net, exp.X_train, exp.y_train, replicas, seed=seed, **train)
    else:
        history = fw.train(net, exp.X_train, exp.y_train, seed=seed, **train)
    outputs = fw.predict(net, exp.X_test)
    return TrainedRun(framework, fw, net, start, history, outputs, metrics(exp.model, outputs, exp.y_test))


def _config(exp: Experiment, config: dict | None) -> dict:
    return exp.overrides if config is None else config


def epoch_printer(epochs: int, say: Callable[[str], None]) -> Callable[[dict], None]:
    """A ``progress`` callback for ``train`` that says about ten lines of a run of ``epochs`` epochs
    (the first, the last, and every tenth), e.g. ``training epoch 20/200  loss 0.6931  eval loss 0.7``."""
    every = max(1, epochs // 10)

    def show(record: dict) -> None:
        if record["epoch"] % every == 0 or record["epoch"] in (1, epochs):
            extra = f"  eval loss {record['eval_loss']:.4g}" if "eval_loss" in record else ""
            say(f"training epoch {record['epoch']}/{epochs}  loss {record['loss']:.4g}{extra}")
    return show
