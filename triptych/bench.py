"""``triptych bench``: milliseconds per training step of every framework, through the triptych API and
in a plain baseline beside it, at the model's bench batch size, with GFLOP/s against this machine's own
NumPy matmul rate and the peak memory of a training step.

What each figure includes:

- ``ms_per_step`` (API): ``fw.train`` (Keras: compile + fit over the shared batches with the per-step
  loss recorded; torch: the explicit loop; scratch: the trainer) timed epoch by epoch; the first epoch
  (Keras's tracing, torch's and NumPy's warm-up) is dropped and the fastest later epoch kept.
- ``baseline_ms_per_step`` (plain): the same model, weights and shuffled minibatches without triptych: a
  minimal torch loop over the sampler's batches, ``model.fit`` on the in-memory arrays (shuffled by fit), scratch's
  own step over the sampler's batches (``<package>/baseline.py``),
  timed the same way.  API and plain runs alternate for ``rounds`` rounds and the best of each is
  kept, so a burst of load on a shared machine hits both alike.  ``cpu_ms_per_step`` and
  ``baseline_cpu_ms_per_step``: the same in CPU time of the process (all threads), which a busy machine
  disturbs far less than the wall clock (with one thread per framework, ``--threads 1``, nothing spins).
- ``gflops``: 3 × the spec's forward FLOPs (matmuls and convolutions only; forward plus two backward
  products per layer) per step, over the API step time; ``fraction_of_matmul`` divides it by the best
  (n × n)·(n × n) NumPy matmul rate of the same dtype measured in the same run.
- ``peak_mb``: resident memory a plain training step adds at its peak (:class:`PeakMemory`).
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import os
import time

import numpy as np

from triptych.frameworks import (FRAMEWORKS, OPTIMIZER_OPTIONS, FrameworkUnavailable, TrainPlan, get_framework,
                                 train_plan)
from triptych.options import TRAINING_RULES
from triptych.parity import parity_problem
from triptych.packages import PACKAGES
from triptych.registry import MODELS, get_spec, resolve
from triptych.settings import KERNEL_SETS, kernel_set
from triptych.validate import check_dtype


def forward_flops(model: str, config: dict, seq_len: int | None = None) -> int:
    """Floating-point operations (2 per multiply-add) of one sample's forward pass, matmuls only (the spec's)."""
    return int(get_spec(model).flops(config, seq_len))


def default_models() -> list[str]:
    """The models ``triptych bench`` times when none are named: every registered model (plugins' too)."""
    return list(MODELS)


def matmul_gflops(dtype: str = "float32", n: int = 1024, repeats: int = 5) -> float:
    """This machine's NumPy matmul rate in ``dtype``: 2n³ / best time of ``repeats`` (n × n)·(n × n)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class EpochClock:
    """Seconds per step of the fastest epoch after the first, in wall-clock time and in the CPU time of the
    whole process (all its threads): ``tick()`` at every epoch's end.  On a busy machine the CPU time
    counts the work without the waiting for a core (but with any busy-waiting of idle worker threads)."""

    def __init__(self, steps: int):
        self.steps, self.stamps = steps, [(time.perf_counter(), time.process_time())]

    def tick(self, *_) -> None:
        self.stamps.append((time.perf_counter(), time.process_time()))

    @property
    def per_step(self) -> tuple[float, float]:
        """(wall, CPU) seconds per step."""
        epochs = np.diff(np.array(self.stamps), axis=0)[1:]
        return float(epochs[:, 0].min()) / self.steps, float(epochs[:, 1].min()) / self.steps


class PeakMemory:
    """Peak resident memory a piece of code adds, in MiB (Linux; ``None`` where the kernel does not say).

    ``start()``: collect garbage, hand the C heap's free pages back to the system (glibc
    ``malloc_trim``, so that memory cached from earlier steps is not silently reused), reset the
    kernel's high-water mark (``/proc/self/clear_refs``) and read VmRSS.  ``stop()``: VmHWM − that.
    The figure counts everything the code touches — activations, gradients, optimizer temporaries,
    framework workspaces and the batch copies — whichever allocator holds it; ``pool`` (a framework's own
    allocator that keeps freed blocks, with ``start()`` and ``stop() -> MiB``) adds its peak."""

    def __init__(self, pool=None):
        self.before_kb: int | None = None
        self.pool = pool

    @staticmethod
    def _status_kb(field: str) -> int:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

    def start(self) -> None:
        gc.collect()
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc: nothing to trim
            pass
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
                f.write("5")
            self.before_kb = self._status_kb("VmRSS")
        except (OSError, StopIteration):
            self.before_kb = None
        if self.pool is not None:
            self.pool.start()

    def stop(self) -> float | None:
        if self.before_kb is None:
            return None
        return (self._status_kb("VmHWM") - self.before_kb) / 1024 + (self.pool.stop() if self.pool else 0.0)


def optimizer_options(model: str) -> dict:
    """The optimizer options the spec's training defaults carry (momentum, …), for the optimizer it names."""
    training = get_spec(model).training
    return {k: v for k, v in training.items() if k in OPTIMIZER_OPTIONS[training["optimizer"]]}


def _problem(model: str, steps: int, dtype: str):
    """Random data of ``dtype`` for ``steps`` batches of the spec's bench batch size (and sequence length)."""
    spec = get_spec(model)
    config = resolve(model)
    batch = spec.bench.get("batch_size") or spec.training["batch_size"] or 128
    X, y = parity_problem(model, config, batch * steps, seed=0, seq_len=spec.bench.get("seq_len"))
    return config, batch, X.astype(dtype), y if spec.task == "classification" else y.astype(dtype)


def time_training_step(fw, net, X, y, batch: int, steps: int, repeats: int = 3, **options) -> tuple[float, float]:
    """(wall, CPU) seconds per training step of ``batch`` samples: ``fw.train`` over ``steps`` batches for
    1 + ``repeats`` epochs, each epoch's end stamped by the progress callback; the first epoch
    (Keras's tracing, torch's and NumPy's warm-up) is dropped and the fastest later epoch kept."""
    clock = EpochClock(steps)
    n = steps * batch
    fw.train(net, X[:n], y[:n], epochs=1 + repeats, batch_size=batch, seed=0, progress=clock.tick, **options)
    return clock.per_step


def _baseline(framework: str):
    return importlib.import_module(f"{PACKAGES[framework]}.baseline")


def time_baseline_step(net, X, y, batch: int, steps: int, repeats: int = 3) -> tuple[float, float]:
    """(wall, CPU) seconds per step of the framework's plain loop (``<package>/baseline.py``) on the same batches,
    timed as :func:`time_training_step` times the API."""
    clock = EpochClock(steps)
    plan = _bench_plan(net, 1 + repeats, batch)
    _baseline(net.framework).train_epochs(net, X[:steps * batch], y[:steps * batch], plan, clock.tick)
    return clock.per_step


def step_peak_mb(net, X, y, batch: int, steps: int) -> float | None:
    """:class:`PeakMemory` of the second epoch of ``steps`` plain steps (the first warms up)."""
    baseline = _baseline(net.framework)
    memory, ends = PeakMemory(getattr(baseline, "memory_pool", lambda: None)()), []
    baseline.train_epochs(net, X[:steps * batch], y[:steps * batch], _bench_plan(net, 2, batch),
                          lambda: ends.append(memory.stop() if ends else memory.start()))
    return ends[-1]


def time_inference(fw, net, X, repeats: int = 5) -> float:
    """Seconds per ``predict`` of the batch ``X`` (best of ``repeats``, after one warm-up)."""
    fw.predict(net, X)
    return min(_timed(lambda: fw.predict(net, X)) for _ in range(repeats))


def _bench_plan(net, epochs: int, batch: int) -> TrainPlan:
    """The spec's recipe (optimizer, its options, lr) at the bench's epochs and batch, seed 0, no evaluation."""
    return train_plan(net, epochs=epochs, batch_size=batch, seed=0, keep_best=False)


def load_average() -> float | None:
    """The system's 1-minute load average (None where the OS does not say): above the core count, every
    figure was taken beside other work."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def run_bench(models, frameworks=FRAMEWORKS, steps: int = 30, dtype: str = "float32", rounds: int = 3,
              threads: int | None = None, progress=print, scratch_kernels=KERNEL_SETS) -> list[dict]:
    """One row per (model, framework): ms per training step through the API and in the plain baseline,
    their ratio, the ratio to the fastest plain framework, GFLOP/s and its fraction of the measured
    matmul rate, peak step memory, ms per inference batch, the threads each framework ran on (``threads``:
    set them all to that count; None keeps each library's default) and the load average around the run.
    Scratch runs once per kernel set of ``scratch_kernels`` (``TRIPTYCH_SCRATCH_KERNELS``, triptych.settings):
    its rows are "scratch" (the fast kernels) and "scratch[reference]".

    Frameworks run one after the other (all models in scratch, then torch, then Keras): once
    TensorFlow has trained in a process, NumPy code timed after it runs about 1.4× slower on this
    machine (measured, cause not pinned down), so Keras goes last."""
    dtype = check_dtype(dtype)
    for what, value in (("steps", steps), ("rounds", rounds), ("threads", 1 if threads is None else threads)):
        TRAINING_RULES["epochs"](None, what, value)  # a count ≥ 1, checked like epochs
    loads = [load_average()]
    with _baseline("scratch").thread_limit(threads):
        peak = matmul_gflops(dtype)
    problems = {model: _problem(model, steps, dtype) for model in models}
    weights, rows = {}, []
    for name in frameworks:
        try:
            fw = get_framework(name)
        except FrameworkUnavailable as exc:
            if progress:
                progress(f"  {name}: skipped ({exc})")
            continue
        for kernels in (scratch_kernels if name == "scratch" else (None,)):
            label = _label(name, kernels)
            with _baseline(name).thread_limit(threads) as used, kernel_set(kernels):
                rows += _bench_framework(fw, label, problems, weights, steps, rounds, used, progress)
    with _baseline("scratch").thread_limit(threads):
        peak = max(peak, matmul_gflops(dtype))  # the machine's rate: the better of the measures before and after
    loads.append(load_average())
    order = [_label(name, kernels) for name in FRAMEWORKS
             for kernels in (scratch_kernels if name == "scratch" else (None,))]
    rows.sort(key=lambda r: (list(models).index(r["model"]), order.index(r["framework"])))
    for row in rows:
        same_model = [r for r in rows if r["model"] == row["model"]]
        row["matmul_gflops"] = peak
        row["fraction_of_matmul"] = row["gflops"] / peak
        row["ratio_to_fastest"] = row["ms_per_step"] / min(r["ms_per_step"] for r in same_model)
        row["ratio_to_fastest_baseline"] = row["ms_per_step"] / min(r["baseline_ms_per_step"] for r in same_model)
        row["inference_ratio_to_fastest"] = (row["ms_per_inference_batch"]
                                             / min(r["ms_per_inference_batch"] for r in same_model))
        row["load_average"] = None if None in loads else max(loads)
        row["cpu_count"] = os.cpu_count()
    return rows


def _label(framework: str, kernels: str | None) -> str:
    """A row's framework: "scratch" with the default (fast) kernels, "scratch[reference]" with the others."""
    return framework if kernels in (None, KERNEL_SETS[0]) else f"{framework}[{kernels}]"


def _bench_framework(fw, label: str, problems: dict, weights: dict, steps: int, rounds: int, threads,
                     progress) -> list[dict]:
    """The rows of one framework, named ``label`` (see :func:`run_bench`); ``weights`` holds each model's
    first weights."""
    rows = []
    for model, (config, batch, X, y) in problems.items():
        def fresh():
            net = fw.build(model, dtype=X.dtype.name)
            fw.set_weights(net, weights.setdefault(model, fw.get_weights(net)))  # the same start everywhere
            return net
        if progress:
            progress(f"  {model} · {label}: {rounds} rounds of {steps} steps at batch {batch}, API and plain…")
        api, plain = [], []
        for _ in range(rounds):
            api.append(time_training_step(fw, fresh(), X, y, batch, steps, **optimizer_options(model)))
            plain.append(time_baseline_step(fresh(), X, y, batch, steps))
        (step, base), (step_cpu, base_cpu) = ((min(t[k] for t in api), min(t[k] for t in plain)) for k in (0, 1))
        net = fresh()
        peak_mb = step_peak_mb(net, X, y, batch, steps)
        infer = time_inference(fw, net, X[:batch])
        flops = 3 * forward_flops(model, config, get_spec(model).bench.get("seq_len")) * batch
        rows.append(dict(model=model, framework=label, dtype=X.dtype.name, batch=batch, threads=threads,
                         ms_per_step=step * 1e3, baseline_ms_per_step=base * 1e3, harness_overhead=step / base,
                         cpu_ms_per_step=step_cpu * 1e3, baseline_cpu_ms_per_step=base_cpu * 1e3,
                         train_samples_per_s=batch / step, ms_per_inference_batch=infer * 1e3,
                         inference_samples_per_s=batch / infer, gflops=flops / step / 1e9,
                         baseline_gflops=flops / base / 1e9, flops_per_step=flops, peak_mb=peak_mb))
    return rows


BENCH_COLUMNS = ("model", "framework", "threads", "batch", "ms/step", "plain ms/step", "× plain", "× fastest plain",
                 "CPU ms/step", "CPU plain", "GFLOP/s", "% matmul", "peak MB", "ms/predict")


def bench_cells(row: dict) -> list[str]:
    """One bench row as the text cells of :data:`BENCH_COLUMNS` (the terminal table and the report's)."""
    peak = "n/a" if row["peak_mb"] is None else f"{row['peak_mb']:.1f}"
    return [row["model"], row["framework"], str(row["threads"] or "?"), str(row["batch"]), f"{row['ms_per_step']:.2f}",
            f"{row['baseline_ms_per_step']:.2f}", f"{row['harness_overhead']:.2f}",
            f"{row['ratio_to_fastest_baseline']:.2f}", f"{row['cpu_ms_per_step']:.2f}",
            f"{row['baseline_cpu_ms_per_step']:.2f}", f"{row['gflops']:.2f}",
            f"{100 * row['fraction_of_matmul']:.1f}%", peak, f"{row['ms_per_inference_batch']:.2f}"]


def bench_notes(rows: list[dict]) -> list[str]:
    """What the figures include, in words (printed under the table and shown in the report)."""
    row = rows[0]
    load = row["load_average"]
    busy = ("" if load is None else f"; load average up to {load:.1f} on {row['cpu_count']} cores during the run"
            + (" — measured beside other work, so compare the ratios, not the absolute times" if load > row["cpu_count"]
               else ""))
    return [f"{row['dtype']}; NumPy {row['dtype']} matmul on this machine: {row['matmul_gflops']:.1f} GFLOP/s "
            f"(best (n×n)·(n×n) in the same run){busy}",
            "ms/step: one training step through the triptych API (fw.train: the shared batches, per-step losses "
            "recorded); plain ms/step: the same model, weights and shuffled minibatches in a plain loop (torch: gather, "
            "zero_grad, forward, backward, step; Keras: model.fit on in-memory arrays, shuffled by fit; scratch: gather "
            "and its own step); each the best epoch after a "
            "warm-up epoch, API and plain runs alternating",
            "× plain: API over plain (what the harness costs); × fastest plain: API over the fastest framework's plain "
            "step; CPU: the same steps in CPU time of the process (all threads: what a busy machine disturbs least); "
            "GFLOP/s: 3 × the forward matmul and convolution FLOPs per API step; peak MB: resident memory a plain "
            "step adds at its peak (Keras on TensorFlow: plus its allocator's peak, which RSS cannot see)"]


def format_bench(rows: list[dict]) -> str:
    if not rows:
        return "no frameworks to time"
    cells = [list(BENCH_COLUMNS), *(bench_cells(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(BENCH_COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in cells]
    return "\n".join([bench_notes(rows)[0], *lines, *bench_notes(rows)[1:]])
