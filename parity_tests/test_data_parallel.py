"""Data-parallel training reproduces one process: torch DDP over gloo (2 processes), Keras
MirroredStrategy (2 logical CPUs), Keras-on-JAX DataParallel (2 XLA host devices), each against
single-process training on the same global batches, float64, SGD and Adam; and the uneven-batch trap."""
from __future__ import annotations

import pytest

from triptych.cli import main
from triptych.distributed import SCHEMES, Run, _launch, train_replicated, uneven_batches
from triptych.frameworks import get_framework
from triptych.parity import max_abs, parity_problem, parity_weights, worst
from triptych.registry import get_spec, resolve

TOL = 1e-12  # float64, losses and final weights
MODELS = {"house_mlp": 3, "mnist_cnn": 5}  # model: epochs of its parity problem, ≥ 20 steps each
OPTIMIZERS = {"sgd": 0.01, "adam": 1e-3}  # Adam with its default epsilon: each framework against itself


def make_run(model: str, optimizer: str, epochs: int, n: int | None = None, batch_size: int | None = None) -> Run:
    """The model's parity problem (dropout off) from scratch's weights with biases off zero."""
    spec = get_spec(model)
    overrides = spec.parity.get("overrides", {})
    X, y = parity_problem(model, resolve(model, overrides), n or spec.parity["n"])
    scratch = get_framework("scratch")
    weights = parity_weights(scratch, scratch.build(model, **overrides))
    return Run(model, weights, X, y, "float64", overrides,
               dict(epochs=epochs, batch_size=batch_size or spec.parity["batch_size"], lr=OPTIMIZERS[optimizer],
                    optimizer=optimizer, seed=0))


RUNS = [make_run(model, optimizer, epochs) for model, epochs in MODELS.items() for optimizer in OPTIMIZERS]


def single_process(framework: str, runs: list[Run]) -> list[tuple[dict, dict]]:
    """The reference: ordinary ``fw.train`` in one process (Keras on JAX runs in a child of its own)."""
    if framework == "keras[jax]":
        return train_replicated(framework, runs, replicas=1)
    fw = get_framework(framework)
    out = []
    for run in runs:
        net = fw.build(run.model, dtype=run.dtype, **run.overrides)
        fw.set_weights(net, run.weights)
        out.append((fw.train(net, run.X, run.y, **run.train), fw.get_weights(net)))
    return out


def differences(a: tuple[dict, dict], b: tuple[dict, dict]) -> tuple[float, float]:
    """(max |Δ per-step loss|, max |Δ final weight|)."""
    return max_abs(a[0]["loss"], b[0]["loss"]), worst(a[1], b[1], max_abs)[0]


@pytest.mark.backends
@pytest.mark.parametrize("framework", list(SCHEMES))
def test_two_replicas_reproduce_one_process(framework):
    replicated = train_replicated(framework, RUNS, replicas=2)
    reference = single_process(framework, RUNS)
    for run, two, one in zip(RUNS, replicated, reference):
        what = f"{framework} {run.model} {run.train['optimizer']}"
        assert two[0]["replicas"] == 2, what
        assert len(two[0]["loss"]) == len(one[0]["loss"]) >= 20, what
        loss_diff, weight_diff = differences(two, one)
        print(f"{what}: {len(one[0]['loss'])} steps, losses {loss_diff:.2e}, final weights {weight_diff:.2e}")
        assert loss_diff <= TOL and weight_diff <= TOL, f"{what}: {loss_diff:.3e} / {weight_diff:.3e}"


@pytest.mark.backends
def test_uneven_last_batch_drifts_silently_in_ddp_and_mirrored_and_jax_refuses_it():
    """67 samples in batches of 32: the last batch of 3 splits 2 + 1.  DDP averages the two shares'
    mean gradients and MirroredStrategy sums the two shares' mean losses halved: both weight the one
    sample twice as much as each of the two and drift without a word; Keras-on-JAX refuses."""
    run = make_run("house_mlp", "sgd", epochs=2, n=67, batch_size=32)
    for framework in ("torch", "keras"):
        drift = max(differences(_launch(framework, [run], 2)[0], single_process(framework, [run])[0]))
        print(f"{framework}: uneven last batch drifts by {drift:.2e}")
        assert drift > 1e-6, framework
    with pytest.raises(ValueError, match="divisible|divide|evenly"):
        _launch("keras[jax]", [run], 2)


def test_triptych_refuses_batches_that_do_not_split_evenly():
    assert uneven_batches(67, 32, 2) == [3] and uneven_batches(64, 8, 2) == [] and uneven_batches(5, None, 2) == [5]
    run = make_run("house_mlp", "sgd", epochs=1, n=67, batch_size=32)
    for framework in SCHEMES:
        with pytest.raises(ValueError, match="67 samples in batches of 32 give batches of 3, which do not split into 2"):
            train_replicated(framework, [run], replicas=2)
    with pytest.raises(ValueError, match="no data-parallel training for 'scratch'"):
        train_replicated("scratch", [run], replicas=2)


def test_cli_trains_data_parallel_with_the_proven_scheme(capsys):
    """``triptych train --replicas 2`` goes through train_replicated: DDP's test loss equals one process's."""
    argv = ["train", "house_mlp", "--framework", "torch", "--epochs", "2", "--dtype", "float64"]
    assert main(argv + ["--replicas", "2"]) == 0
    two = capsys.readouterr().out
    assert main(argv) == 0
    one = capsys.readouterr().out
    assert "[torch] data-parallel on 2 replicas: torch DistributedDataParallel (gloo)" in two
    assert "[torch] training epoch 2/2  loss" in two  # progress comes back from the child

    def metrics(out):
        return next(line for line in out.splitlines() if line.startswith("[torch]") and "test" in line).split("—")[1]
    assert metrics(two) == metrics(one)
    assert main(["train", "xor", "--framework", "torch", "--replicas", "2"]) == 2  # batches of 1 cannot split
    assert "do not split into 2 equal shares" in capsys.readouterr().err
