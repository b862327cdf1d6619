"""Property-based parity: architectures and optimizer settings nobody picked, drawn by hypothesis.

The drawn networks are the generic families of ``parity_tests/families/`` (dense, conv, recurrent),
registered through the public registry (``triptych.register_model``) like a user's own model, and
checked with the parity ladder's rungs 1–4 (forward, loss, gradients incl. the input, one optimizer
step) for every pair in float64 at the ladder's tolerances.  The optimizer family draws a network
from any family plus an optimizer (SGD with or without (Nesterov) momentum, RMSprop plain or centered
with or without momentum, Adam) with random hyperparameters, minibatches and learning-rate decay,
trains 1 to 9 steps in all three frameworks from the same weights and compares the per-step losses and
the weights: at rung 4's tolerance after one step, at rung 5's (a trajectory) after more.

Each family runs twice: a bounded, derandomised test in the default suite (the same examples on
every run) and a ``deep`` one (``pytest -m deep -s``: ``TRIPTYCH_DEEP_EXAMPLES``, default 500,
fresh examples per run, ``--hypothesis-seed=N`` repeats a run) that prints the number of examples
and the worst difference per rung.  The deep runs compute each example in a worker process that is
replaced every ``TRIPTYCH_DEEP_PER_PROCESS`` (default 50) examples (``parity_tests/families/workers.py``),
so memory and the time per example stay level; the progress lines give both.  A failure that hypothesis shrinks is kept below as an
``example`` of the default test, with what it caught.
"""
from __future__ import annotations

import itertools
import os
import time

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from parity_tests.families.recurrent_family import CELLS
from parity_tests.families.workers import PER_CHILD_DEFAULT, PER_CHILD_VARIABLE, RecycledWorker
from triptych.canonical import conv_size
from triptych.frameworks import FRAMEWORKS, NonFiniteLoss, get_framework
from triptych.options import ACTIVATIONS
from triptych.parity import max_abs, parity_problem, parity_weights, run_ladder, worst
from triptych.registry import resolve
from triptych.tolerances import PARITY_EPSILONS, TOLERANCES

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")

DEFAULT = settings(derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
DEEP = settings(DEFAULT, derandomize=False, max_examples=int(os.environ.get("TRIPTYCH_DEEP_EXAMPLES", "500")))
FEW_STEPS_N = 8  # samples of the optimizer family's problem (minibatches of 3, 4 or all 8)

# ---------------------------------------------------------------- what is drawn

activations = st.sampled_from(ACTIVATIONS)

dense_configs = st.fixed_dictionaries(dict(
    in_features=st.integers(1, 8),
    hidden=st.lists(st.tuples(st.integers(1, 32), activations), min_size=1, max_size=4).map(tuple)))


@st.composite
def conv_configs(draw):
    """1–3 blocks; each kernel (for 'valid') and pool is drawn to fit what the blocks before left."""
    h, w = draw(st.integers(1, 16)), draw(st.integers(1, 16))
    config = dict(image_size=(h, w), channels=draw(st.integers(1, 3)), convs=[], num_classes=draw(st.integers(2, 4)))
    for _ in range(draw(st.integers(1, 3))):
        padding = draw(st.sampled_from(("valid", "same")))
        kh, kw = (draw(st.integers(1, 5 if padding == "same" else min(5, side))) for side in (h, w))
        stride = draw(st.integers(1, 2))
        ho, wo = conv_size(h, kh, stride, padding), conv_size(w, kw, stride, padding)
        pool = draw(st.integers(1, min(3, ho, wo)))
        config["convs"].append((draw(st.integers(1, 16)), (kh, kw), stride, padding, draw(activations), pool))
        h, w = ho // pool, wo // pool
    config["convs"] = tuple(config["convs"])
    return config


recurrent_configs = st.fixed_dictionaries(dict(
    cell=st.sampled_from(tuple(CELLS)), units=st.lists(st.integers(1, 16), min_size=1, max_size=2).map(tuple),
    in_features=st.integers(1, 6), seq_len=st.integers(1, 10), num_classes=st.integers(2, 4)))

FAMILY_CONFIGS = {"dense_family": dense_configs, "conv_family": conv_configs(),
                  "recurrent_family": recurrent_configs}


@st.composite
def optimizer_plans(draw):
    """fw.train keyword arguments: optimizer, lr (10⁻⁴…0.5, log-uniform), its options, decay, epochs, batch."""
    optimizer = draw(st.sampled_from(("sgd", "rmsprop", "adam")))
    plan = dict(optimizer=optimizer, lr=float(10 ** draw(st.floats(-4, np.log10(0.5)))),
                epochs=draw(st.integers(1, 3)), batch_size=draw(st.sampled_from((None, 3, 4))),
                lr_decay=draw(st.sampled_from(("none", "linear", "exponential"))))
    if optimizer in ("sgd", "rmsprop"):
        plan["momentum"] = draw(st.sampled_from((0.0,)) | st.floats(0.05, 0.99))
    if optimizer == "sgd":
        plan["nesterov"] = plan["momentum"] > 0 and draw(st.booleans())
    elif optimizer == "rmsprop":
        plan.update(rho=draw(st.floats(0.5, 0.999)), centered=draw(st.booleans()))
    else:
        plan.update(beta_1=draw(st.floats(0.0, 0.99)), beta_2=draw(st.floats(0.5, 0.9999)))
    if optimizer in PARITY_EPSILONS:  # Keras and torch place epsilon differently: a tiny one in all three
        plan["epsilon"] = PARITY_EPSILONS[optimizer]
    if plan["lr_decay"] == "linear":  # lr·(1 − r·epoch) stays positive over the epochs
        plan["decay_rate"] = draw(st.floats(0.01, 0.99 / plan["epochs"]))
    elif plan["lr_decay"] == "exponential":
        plan["decay_rate"] = draw(st.floats(0.3, 0.99))
    return plan


optimizer_cases = st.sampled_from(tuple(FAMILY_CONFIGS)).flatmap(
    lambda model: st.tuples(st.just(model), FAMILY_CONFIGS[model], optimizer_plans()))

# ---------------------------------------------------------------- the checks

SEEN: dict[str, int] = {}  # family → examples run
MEMORY: dict[str, float] = {}  # family → the most resident MiB a worker process held after one of its examples
SINCE: dict[str, float] = {}  # family → when its last progress line (or its first example) was
DIVERGED_SEEN: dict[str, int] = {}  # family → examples that diverged in every framework
WORST: dict[tuple[str, str], tuple[float, str, str]] = {}  # (family, rung) → (difference, pair, example)
PROGRESS_EVERY = 100  # examples between progress lines (shown with -s)


def _count(family: str, resident_mb: float | None) -> None:
    """One more example of ``family`` seen (``resident_mb``: its worker's memory after it; None in-process)."""
    SEEN[family] = SEEN.get(family, 0) + 1
    SINCE.setdefault(family, time.perf_counter())
    if resident_mb is not None:
        MEMORY[family] = max(MEMORY.get(family, 0.0), resident_mb)
    if SEEN[family] % PROGRESS_EVERY == 0:
        worst_so_far = max((value for (f, _), (value, _, _) in WORST.items() if f == family), default=0.0)
        now, memory = time.perf_counter(), "" if resident_mb is None else f", worker {resident_mb:.0f} MB"
        print(f"\n{family}: {SEEN[family]} examples, worst difference so far {worst_so_far:.2e}, "
              f"{(now - SINCE[family]) / PROGRESS_EVERY:.2f} s an example lately{memory}", flush=True)
        SINCE[family] = now


def _record(family: str, rung: str, pair: str, value: float, case) -> None:
    if value >= WORST.get((family, rung), (-1.0,))[0]:
        WORST[(family, rung)] = (value, pair, repr(case))


def in_process(fn, *args):
    """``fn(*args)`` here, as :meth:`RecycledWorker.run` returns it in a worker: (result, None: no worker's memory)."""
    return fn(*args), None


DEEP_WORKER = RecycledWorker(int(os.environ.get(PER_CHILD_VARIABLE, PER_CHILD_DEFAULT)))


def ladder_results(model: str, config: dict):
    """Rungs 1–4 of the parity ladder, every pair, float64."""
    results = run_ladder(model, "float64", overrides=config, rungs=(1, 2, 3, 4))
    keras.backend.clear_session()  # every example builds new Keras models: free the last ones' global state
    return results


def check_ladder(model: str, config: dict, where=in_process) -> None:
    """:func:`ladder_results` computed ``where`` says (:func:`in_process` or a worker's ``run``), then checked."""
    results, resident_mb = where(ladder_results, model, config)
    assert {r.rung for r in results} == {1, 2, 3, 4} and len(results) == 12
    for r in results:
        _record(model, f"{r.rung} {r.rung_name}", r.pair, r.value, config)
    _count(model, resident_mb)
    failures = [f"rung {r.rung} {r.rung_name} {r.pair}: {r.value:.3e} > {r.tolerance:.0e} ({r.detail})"
                for r in results if not r.passed]
    assert not failures, f"{model} {config}:\n" + "\n".join(failures)


DIVERGED = 1e6  # a run whose loss grows past this many times its first loss (or overflows) has diverged


def few_steps(model: str, config: dict, plan: dict, seed: int = 0):
    """Train ``plan`` in every framework from the same weights on the same batches: the number of steps
    and, per pair, the worst difference of the per-step losses and final weights, and where; and which
    frameworks diverged (:data:`DIVERGED`, or ``NonFiniteLoss``).  A diverging run multiplies every
    rounding difference at every step (losses of 1e100 agree to about 1e-3 relative), so diverged runs
    are not compared: every framework must only diverge too.

    Keras's momentum buffers (SGD v ← μv − lr·g, w ← w + v; RMSprop's holds lr·g/√v) equal torch's and
    scratch's (b ← μb + g, w ← w − lr·b) only at a constant learning rate (the conventions table), so with
    momentum and a decaying rate only scratch↔torch is compared."""
    fws = {name: get_framework(name) for name in FRAMEWORKS}
    if plan.get("momentum") and plan["lr_decay"] != "none":
        del fws["keras"]
    X, y = parity_problem(model, resolve(model, config), FEW_STEPS_N, seed)
    nets = {name: fw.build(model, seed=seed, dtype="float64", **config) for name, fw in fws.items()}
    w0 = parity_weights(fws["scratch"], nets["scratch"], seed)
    runs = {}
    for name, fw in fws.items():
        fw.set_weights(nets[name], w0)
        try:
            history = fw.train(nets[name], X, y, seed=seed, **plan)
        except NonFiniteLoss:  # scratch stops at the step, torch and Keras at the epoch's end
            runs[name] = None
            continue
        runs[name] = (history["loss"], fw.get_weights(nets[name]))
    diverged = {name: run is None or max(run[0]) > DIVERGED * max(1.0, run[0][0]) for name, run in runs.items()}
    if any(diverged.values()):
        return None, {}, diverged
    differences = {}
    for a, b in itertools.combinations(fws, 2):
        value, key = worst(runs[a][1], runs[b][1], max_abs)
        losses = max_abs(runs[a][0], runs[b][0])
        differences[f"{a}↔{b}"] = (value, key) if value >= losses else (losses, "the per-step losses")
    return len(runs["scratch"][0]), differences, diverged


def few_steps_cleared(model: str, config: dict, plan: dict):
    """:func:`few_steps`, then Keras's global state freed."""
    result = few_steps(model, config, plan)
    keras.backend.clear_session()
    return result


def check_optimizer(case, where=in_process) -> None:
    """One step is rung 4 (tolerance 1e-12 in float64); more steps are a short trajectory, rung 5 (1e-9).
    A run that diverges must diverge in every framework (:func:`few_steps`).  ``where``: as in :func:`check_ladder`."""
    model, config, plan = case
    (steps, differences, diverged), resident_mb = where(few_steps_cleared, model, config, plan)
    if any(diverged.values()):
        DIVERGED_SEEN["optimizers"] = DIVERGED_SEEN.get("optimizers", 0) + 1
        _count("optimizers", resident_mb)
        assert all(diverged.values()), (f"{model} {config} {plan}: only "
                                        f"{', '.join(n for n, d in diverged.items() if d)} diverged")
        return
    rung = 4 if steps == 1 else 5
    tolerance = TOLERANCES["float64"][rung][0]
    for pair, (value, _) in differences.items():
        _record("optimizers", "4 one step" if steps == 1 else "5 a few steps", pair, value, case)
    _count("optimizers", resident_mb)
    failures = [f"{pair}: {value:.3e} > {tolerance:.0e} at {key}" for pair, (value, key) in differences.items()
                if not value <= tolerance]
    assert not failures, f"{model} {config} {plan}, {steps} steps:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def families():
    """The three families registered for this module's tests only (the rest of the suite iterates MODELS);
    at the end, the examples run and the worst difference per rung (shown with ``-s``)."""
    from parity_tests.families import register_families, unregister_families

    register_families(replace=True)
    yield
    DEEP_WORKER.close()
    unregister_families()
    if SEEN:
        print("\nrandom configurations: examples run and the worst float64 difference per rung")
        for (family, rung), (value, pair, case) in sorted(WORST.items()):
            print(f"  {family:<16} {SEEN[family]:>5} examples  rung {rung:<14} {value:.2e}  {pair:<14} {case}")
        for family, count in DIVERGED_SEEN.items():
            print(f"  {family:<16} {count:>5} of them diverged in every framework (not compared further)")
        for family, mb in MEMORY.items():
            print(f"  {family:<16} worker processes held at most {mb:.0f} MB after an example "
                  f"({DEEP_WORKER.per_child} examples each)")


# ---------------------------------------------------------------- the tests


def family_tests(strategy, check, max_examples: int, examples=()):
    """The family's default test (``max_examples``, derandomised, plus the kept ``examples``; in this process)
    and its deep one (marker ``deep``; in :data:`DEEP_WORKER`'s recycled processes)."""
    def default(families, case):
        check(case)

    def deep(families, case):
        check(case, DEEP_WORKER.run)

    for kept in examples:
        default = kept(default)
    return (settings(DEFAULT, max_examples=max_examples)(given(case=strategy)(default)),
            pytest.mark.deep(DEEP(given(case=strategy)(deep))))


test_dense_family, test_dense_family_deep = family_tests(
    dense_configs, lambda config, *where: check_ladder("dense_family", config, *where), max_examples=6)

test_conv_family, test_conv_family_deep = family_tests(
    conv_configs(), lambda config, *where: check_ladder("conv_family", config, *where), max_examples=6)

test_recurrent_family, test_recurrent_family_deep = family_tests(
    recurrent_configs, lambda config, *where: check_ladder("recurrent_family", config, *where), max_examples=3)

test_optimizers, test_optimizers_deep = family_tests(optimizer_cases, check_optimizer, max_examples=6, examples=[
    # Caught (deep run): RMSprop's first step moves every weight by about lr/√(1 − ρ) ≈ 3.6, the second
    # saturates the output, and the recurrent family then ended in a sigmoid with binary cross-entropy,
    # where scratch's clip of p to [1e-7, 1 − 1e-7] (Keras's clip) and torch's log clamp part ways (the
    # conventions table): 3.5 apart after three steps.  The family now ends in logits and softmax CE.
    example(case=("recurrent_family", dict(cell="lstm", units=(7,), in_features=1, seq_len=3, num_classes=2),
                  dict(optimizer="rmsprop", lr=0.31622776601683794, epochs=3, batch_size=None, lr_decay="none",
                       momentum=0.0, rho=0.9921875, centered=False, epsilon=1e-30))),
    # Caught (deep run): a relu channel dead for one batch, then a gradient of 1.5e-13 (v ≈ 1.1e-26), where
    # RMSprop's parity epsilon, then 1e-30, inside Keras's root (√(v + ε), torch √v + ε) moved Keras's step
    # by 4e-5 relative: 1.2e-5 after three steps.  Fixed in the core: PARITY_RMSPROP_EPSILON is 1e-100.
    example(case=("conv_family", dict(image_size=(11, 7), channels=3, num_classes=2,
                                      convs=((11, (1, 4), 2, "valid", "relu", 1), (1, (2, 1), 1, "valid", "sigmoid", 1),
                                             (12, (2, 1), 1, "valid", "linear", 1))),
                  dict(optimizer="rmsprop", lr=0.20011020965197962, epochs=1, batch_size=3, lr_decay="none",
                       momentum=0.0, rho=0.5, centered=False, epsilon=PARITY_EPSILONS["rmsprop"]))),
    # Caught (deep run): Adam with β₁ 0, β₂ 0.5 at lr 0.13 saturates the first convolution's sigmoid (σ' ≈ 1e-31),
    # where Adam's parity epsilon, then 1e-30, outside Keras's bias-corrected root and inside torch's moved Keras's
    # steps: 1.6e-4 apart in the per-step losses after three steps.  Fixed in the core: PARITY_ADAM_EPSILON is 1e-100.
    example(case=("conv_family", dict(image_size=(3, 8), channels=3, num_classes=4,
                                      convs=((14, (1, 2), 1, "valid", "sigmoid", 1), (15, (2, 1), 2, "valid", "relu", 1),
                                             (16, (4, 4), 1, "same", "linear", 1))),
                  dict(optimizer="adam", lr=0.1333521432163324, epochs=1, batch_size=3, lr_decay="none", beta_1=0.0,
                       beta_2=0.5, epsilon=PARITY_EPSILONS["adam"]))),
    # Caught (deep run): SGD at lr 0.32 on a linear network diverges (loss 1e250, then inf at step 8): the
    # per-step losses of 1e97 differed by 1e97 between frameworks, and scratch stopped with NonFiniteLoss.
    # A diverged run is now only required to diverge in every framework.
    example(case=("dense_family", dict(in_features=1, hidden=((2, "linear"),)),
                  dict(optimizer="sgd", lr=0.31622776601683794, epochs=3, batch_size=3, lr_decay="none",
                       momentum=0.0, nesterov=False))),
    example(case=("dense_family", dict(in_features=2, hidden=((1, "linear"),)),
                  dict(optimizer="sgd", lr=0.31622776601683794, epochs=3, batch_size=3, lr_decay="none",
                       momentum=0.0, nesterov=False))),
])


@pytest.mark.parametrize("in_features, width", [(1, 2), (2, 1)])
def test_a_diverging_run_diverges_in_every_framework(families, in_features, width):
    """The two kept divergent examples: every framework diverges (none is compared finite against infinite)."""
    plan = dict(optimizer="sgd", lr=0.31622776601683794, epochs=3, batch_size=3, lr_decay="none", momentum=0.0,
                nesterov=False)
    steps, differences, diverged = few_steps("dense_family", dict(in_features=in_features, hidden=((width, "linear"),)),
                                             plan)
    assert diverged == {"scratch": True, "torch": True, "keras": True} and steps is None and differences == {}


@pytest.mark.usefixtures("keras_fw")  # Keras set up (keras_impl.setup) before it is imported here
def test_rmsprop_parity_epsilon_is_negligible_inside_keras_root():
    """After the gradients 0 and 1.5e-13 (v ≈ 1.1e-26), Keras's √(v + ε) and torch's √v + ε give the same
    step with the parity ε, where 1e-30 (its former value) moved them 4e-5 apart."""
    import torch

    from keras_impl.training import floatx

    def steps(eps):
        w_torch = torch.ones(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.RMSprop([w_torch], lr=0.2, alpha=0.5, eps=eps)
        with floatx("float64"):
            w_keras = keras.Variable(np.array([1.0]), dtype="float64")
            keras_opt = keras.optimizers.RMSprop(learning_rate=0.2, rho=np.float64(0.5), epsilon=np.float64(eps))
            for g in (0.0, 1.5e-13):
                w_torch.grad = torch.tensor([g], dtype=torch.float64)
                opt.step()
                keras_opt.apply([np.array([g])], [w_keras])
        return w_torch.item(), float(w_keras.numpy()[0])

    torch_w, keras_w = steps(PARITY_EPSILONS["rmsprop"])
    assert abs(torch_w - keras_w) <= 1e-15 and abs(torch_w - 1.0) > 0.2  # a full step: g / √v = √2
    torch_w, keras_w = steps(1e-30)
    assert abs(torch_w - keras_w) > 1e-5


def test_drawn_configurations_are_valid_and_vary(families):
    """The strategies draw what they promise: every configuration builds, and a few draws already cover
    both paddings, strides 1 and 2, stacked recurrent layers, every optimizer and every decay."""
    seen = set()

    @settings(DEFAULT, max_examples=120)
    @given(case=optimizer_cases)
    def draw(case):
        model, config, plan = case
        get_framework("scratch").build(model, **config)
        if model == "conv_family":
            seen.update(item for conv in config["convs"] for item in (conv[3], f"stride {conv[2]}"))
        if model == "recurrent_family":
            seen.update({config["cell"], *(["stacked"] if len(config["units"]) == 2 else [])})
        seen.add(plan["optimizer"] + (" nesterov" if plan.get("nesterov") else "") +
                 (" centered" if plan.get("centered") else ""))
        seen.add(plan["lr_decay"])

    draw()
    assert {"valid", "same", "stride 1", "stride 2", "stacked", "rnn", "gru", "lstm", "sgd", "sgd nesterov",
            "rmsprop", "rmsprop centered", "adam", "none", "linear", "exponential"} <= seen, sorted(seen)


def test_families_come_through_the_public_registry(families):
    """The families are registered like a user's own model: implementations outside the core packages, a
    second registration under a taken name refused, and unregister_model withdrawing a model."""
    import dataclasses

    from parity_tests.families import dense_family
    from triptych import MODELS, register_model, unregister_model

    assert MODELS["dense_family"].module("torch").__name__ == "parity_tests.families.torch_impl.dense_family"
    with pytest.raises(ValueError, match="already registered"):
        dense_family.register()
    register_model(dataclasses.replace(MODELS["dense_family"], name="dense_copy"))
    assert "dense_copy" in MODELS
    unregister_model("dense_copy")
    assert "dense_copy" not in MODELS
    with pytest.raises(ValueError, match="unknown model 'dense_copy'"):
        unregister_model("dense_copy")


def test_family_options_are_checked(families):
    """A configuration the families cannot build is a ValueError naming the option, before any framework."""
    scratch = get_framework("scratch")
    for model, bad, option in [("dense_family", dict(hidden=[(0, "relu")]), "hidden"),
                               ("dense_family", dict(hidden=[(3, "swish")]), "hidden"),
                               ("conv_family", dict(convs=[]), "convs"),
                               ("conv_family", dict(convs=[(4, 3, 1, "full", "relu", 1)]), "convs"),
                               ("recurrent_family", dict(cell="transformer"), "cell"),
                               ("recurrent_family", dict(units=()), "units")]:
        with pytest.raises(ValueError, match=f"option '{option}'"):
            scratch.build(model, **bad)
    with pytest.raises(ValueError, match="leaves no pixels"):
        scratch.build("conv_family", image_size=(4, 4), convs=[(2, 3, 1, "valid", "relu", 3)])


def test_symmetric_padding_fails_the_forward_rung(families):
    """The ladder on these families can fail: torch's symmetric padding (k // 2 each side) instead of
    TensorFlow's 'same' gives the right shape at stride 2 on an even image but puts the odd pixel before."""
    import torch.nn as nn

    config = dict(image_size=(6, 6), channels=1, convs=[(2, 3, 2, "same", "linear", 1)], num_classes=2)
    scratch, torch_fw = get_framework("scratch"), get_framework("torch")
    a, b = scratch.build("conv_family", **config), torch_fw.build("conv_family", **config)
    weights = parity_weights(scratch, a)
    scratch.set_weights(a, weights)
    torch_fw.set_weights(b, weights)
    X, _ = parity_problem("conv_family", resolve("conv_family", config), 4)
    tolerance = TOLERANCES["float64"][1][0]
    assert max_abs(scratch.predict(a, X), torch_fw.predict(b, X)) <= tolerance
    block = b.native.blocks[0]
    block.pad, block.conv.padding = nn.Identity(), (1, 1)
    assert max_abs(scratch.predict(a, X), torch_fw.predict(b, X)) > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("model", ["dense_family", "conv_family", "recurrent_family"])
def test_families_pass_the_whole_ladder(families, model, dtype):
    """Registered from outside the core, a family gets the whole ladder like a built-in model (rungs 1–6)."""
    results = run_ladder(model, dtype)
    assert {r.rung for r in results} == set(TOLERANCES[dtype])
    failures = [f"rung {r.rung} {r.rung_name} {r.pair}: {r.value:.3e} > {r.tolerance:.0e}"
                for r in results if r.passed is False]
    assert not failures, f"{model} {dtype}:\n" + "\n".join(failures)


def test_deep_examples_run_in_worker_processes_replaced_after_per_child():
    """The deep runs' worker: each call in a child process, a new child after ``per_child`` calls, the child's
    memory returned with each result, an exception raised in the caller, a count below 1 refused."""
    from parity_tests.families.workers import RecycledWorker

    worker = RecycledWorker(2)
    try:
        runs = [worker.run(os.getpid) for _ in range(4)]
        with pytest.raises(ZeroDivisionError):
            worker.run(divmod, 1, 0)
    finally:
        worker.close()
    pids = [pid for pid, _ in runs]
    assert pids[0] == pids[1] != pids[2] == pids[3] and os.getpid() not in pids
    assert all(mb > 0 for _, mb in runs)
    with pytest.raises(ValueError, match="TRIPTYCH_DEEP_PER_PROCESS must be a whole number ≥ 1"):
        RecycledWorker(0)
