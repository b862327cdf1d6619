"""Data-parallel training: every shared batch split into equal shares, one share per replica.

| framework    | scheme                                                   | replicas are              |
|--------------|----------------------------------------------------------|---------------------------|
| `torch`      | `DistributedDataParallel` over gloo, loopback only       | processes                 |
| `keras`      | `tf.distribute.MirroredStrategy` (Keras on TensorFlow)   | logical CPU devices       |
| `keras[jax]` | `keras.distribution.DataParallel` (Keras on JAX)         | XLA host devices          |

How each one makes the gradient of a batch B split into shares S_1 … S_R, with L_r the mean loss
over S_r: DDP averages the processes' gradients, (1/R) Σ_r ∇L_r; MirroredStrategy divides each
replica's loss by R and sums the gradients, Σ_r ∇(L_r / R), the same; JAX computes ∇ mean_B ℓ
itself, as one program with B sharded across the devices.  The first two equal ∇ mean_B ℓ only
when every |S_r| = |B| / R: an uneven last batch drifts silently, while JAX refuses it.  So every
batch here must split evenly, and :func:`train_replicated` refuses a plan that does not before
anything starts.

Every scheme runs in child processes (triptych.isolation): the replica count is fixed when a
framework starts (XLA's host devices, TensorFlow's logical devices, a torch process group).

    [(history, weights)] = train_replicated("torch", [Run(name, w0, X, y)], replicas=2)   # name: any model

``replicas=1`` trains the same runs in one child process without any distribution: the
single-process reference.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from triptych.isolation import Child, gather
from triptych.registry import get_spec

SCHEMES = {
    "torch": "torch DistributedDataParallel (gloo), one process per replica",
    "keras": "Keras on TensorFlow, tf.distribute.MirroredStrategy over logical CPU devices",
    "keras[jax]": "Keras on JAX, keras.distribution.DataParallel over XLA host devices",
}
LOOPBACK = "127.0.0.1"


@dataclass
class Run:
    """One training run: a model from ``weights`` (canonical) on (X, y), with ``fw.train``'s keywords."""

    model: str
    weights: dict[str, np.ndarray]
    X: np.ndarray
    y: np.ndarray
    dtype: str = "float64"
    overrides: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)


def uneven_batches(n: int, batch_size: int | None, replicas: int) -> list[int]:
    """Sizes of the batches (of triptych.batching over ``n`` samples) that do not split into
    ``replicas`` equal shares."""
    sizes = [n] if batch_size is None or batch_size >= n else [batch_size] * (n // batch_size) + [n % batch_size]
    return sorted({s for s in sizes if s and s % replicas})


def check_even_shares(run: Run, replicas: int) -> None:
    """A ValueError unless every batch of ``run`` splits into ``replicas`` equal shares."""
    batch_size = run.train.get("batch_size", get_spec(run.model).training["batch_size"])
    bad = uneven_batches(len(run.X), batch_size, replicas)
    if bad:
        raise ValueError(f"{run.model}: {len(run.X)} samples in batches of {batch_size or len(run.X)} give batches of "
                         f"{', '.join(map(str, bad))}, which do not split into {replicas} equal shares; data-parallel "
                         f"training needs every batch (the last one too) to be a multiple of the replica count")


def train_replicated(framework: str, runs: list[Run], replicas: int,
                     progress: Callable[[dict], None] | None = None) -> list[tuple[dict, dict]]:
    """Train each run data-parallel on ``replicas`` replicas of ``framework`` (a key of SCHEMES).

    Returns [(history, final canonical weights)], one per run; the history is ``fw.train``'s (the
    per-step loss is that of the whole global batch).  ``progress`` gets ``fw.train``'s epoch records.
    """
    if framework not in SCHEMES:
        raise ValueError(f"no data-parallel training for {framework!r}; expected one of {', '.join(SCHEMES)}")
    if not isinstance(replicas, (int, np.integer)) or replicas < 1:
        raise ValueError(f"replicas must be a positive integer, got {replicas!r}")
    for run in runs:
        check_even_shares(run, replicas)
    return _launch(framework, runs, int(replicas), progress)


def train_net_replicated(fw, net, X, y, replicas: int, progress: Callable[[dict], None] | None = None,
                         **train_kwargs) -> dict:
    """``fw.train(net, X, y, **train_kwargs)``, data-parallel on ``replicas`` replicas of ``fw.label``
    (a key of SCHEMES): a copy of ``net`` trains in the scheme's child processes and the trained
    weights come back into ``net``.  Returns the history."""
    if fw.label not in SCHEMES:
        raise ValueError(f"no data-parallel training for {fw.label!r}; frameworks with one: {', '.join(SCHEMES)}")
    run = Run(net.model, fw.get_weights(net), X, y, net.dtype, net.config, train_kwargs)
    [(history, weights)] = train_replicated(fw.label, [run], replicas, progress)
    fw.set_weights(net, weights)
    return history


def _launch(framework: str, runs: list[Run], replicas: int, progress=None) -> list[tuple[dict, dict]]:
    """Start the scheme's child processes and collect the results (no checks: the uneven-batch test
    uses this to show what the frameworks themselves do)."""
    call = dict(runs=runs, replicas=replicas)
    if framework == "torch":
        port, env = _free_port(), {"GLOO_SOCKET_IFNAME": _loopback_interface()}
        return gather([Child("triptych.distributed:_torch", dict(call, rank=rank, port=port), env=env,
                             progress=progress if rank == 0 else None) for rank in range(replicas)])[0]
    if framework == "keras":
        return Child("triptych.distributed:_keras_tensorflow", call, env={"KERAS_BACKEND": "tensorflow"},
                     progress=progress).result()
    xla_flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={replicas}".strip()
    return Child("triptych.distributed:_keras_jax", call, env={"KERAS_BACKEND": "jax", "XLA_FLAGS": xla_flags},
                 progress=progress).result()


def _loopback_interface() -> str:
    """The loopback network interface ("lo" on Linux, "lo0" on macOS): gloo binds to it and to
    nothing else (by default it would take the interface of the host name's address)."""
    names = [name for _, name in socket.if_nameindex() if name.startswith("lo")]
    if not names:
        raise RuntimeError("torch DDP here runs on the loopback interface only, and none (lo…) was found")
    return names[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- in the child processes


def _train_runs(framework: str, runs: list[Run], replicas_of: Callable[[Any], int],
                progress=None) -> list[tuple[dict, dict]]:
    """Build each run's model, load its weights, ``fw.train`` it: the same call as single-process
    training, inside whatever distribution the caller has set up.  ``history["replicas"]`` is the
    replica count the framework itself reports for the trained net (``replicas_of(net)``)."""
    from triptych.frameworks import get_framework

    fw = get_framework(framework)
    out = []
    for run in runs:
        net = fw.build(run.model, dtype=run.dtype, **run.overrides)
        fw.set_weights(net, run.weights)
        history = fw.train(net, run.X, run.y, progress=progress, **run.train)
        out.append(({**history, "replicas": replicas_of(net)}, fw.get_weights(net)))
    return out


def _torch(runs, replicas, rank=0, port=None, progress=None):
    """One DDP process: join the gloo group on the loopback address, then train (torch_impl.training.fit
    wraps the model in DistributedDataParallel and takes this rank's share of every batch).  One
    replica: no process group."""
    import torch.distributed as dist

    if replicas == 1:
        return _train_runs("torch", runs, lambda net: 1, progress)
    dist.init_process_group("gloo", init_method=f"tcp://{LOOPBACK}:{port}", rank=rank, world_size=replicas)
    try:
        return _train_runs("torch", runs, lambda net: dist.get_world_size(), progress)
    finally:
        dist.destroy_process_group()


def _check_keras_backend(backend: str) -> None:
    """Set Keras up (get_framework: the quiet start-up, then the backend the child's KERAS_BACKEND names) and
    check that it runs on ``backend``."""
    from triptych.backends import keras_label
    from triptych.frameworks import get_framework

    label = get_framework("keras").label
    assert label == keras_label(backend), label


def _keras_tensorflow(runs, replicas, progress=None):
    """Split the CPU into ``replicas`` logical devices (before TensorFlow starts), then build and train
    under ``MirroredStrategy`` (one replica: TensorFlow's default strategy)."""
    _check_keras_backend("tensorflow")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    strategy = (tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(replicas)]) if replicas > 1
                else tf.distribute.get_strategy())
    with strategy.scope():
        return _train_runs("keras", runs, lambda net: net.native.distribute_strategy.num_replicas_in_sync, progress)


def _keras_jax(runs, replicas, progress=None):
    """``keras.distribution.DataParallel`` over the XLA host devices (``XLA_FLAGS`` made ``replicas``
    of them); one replica: no distribution."""
    _check_keras_backend("jax")
    import jax
    import keras

    if replicas > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()[:replicas]))
    return _train_runs("keras", runs, lambda net: len(net.native.trainable_variables[0].value.sharding.device_set),
                       progress)
