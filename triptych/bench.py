"""``triptych bench``: milliseconds per training step in float32 at the model's default batch size
(128 for the MNIST models), for each framework, with the ratio to the fastest and the GFLOP/s
achieved against NumPy's own float32 matmul rate on this machine.

A step is timed inside an ordinary ``train`` call (Keras: compile + fit), epoch by epoch, so the
figures are what a user's training loop gets, without the one-off cost of the first epoch.
"""
from __future__ import annotations

import time

import numpy as np

from triptych.frameworks import FRAMEWORKS, FrameworkUnavailable, get_framework
from triptych.options import TRAINING_RULES
from triptych.parity import parity_problem
from triptych.registry import MODELS, get_spec, resolve

def forward_flops(model: str, config: dict, seq_len: int | None = None) -> int:
    """Floating-point operations (2 per multiply-add) of one sample's forward pass, matmuls only (the spec's)."""
    return int(get_spec(model).flops(config, seq_len))


def default_models() -> list[str]:
    """The models ``triptych bench`` times when none are named: those whose spec says ``bench.default``."""
    return [m for m in MODELS if get_spec(m).bench.get("default")]


def matmul_gflops(n: int = 1024, repeats: int = 5) -> float:
    """This machine's NumPy float32 matmul rate: 2n³ / best time of ``repeats`` (n × n)·(n × n)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_training_step(fw, net, X, y, batch: int, steps: int, repeats: int = 3) -> float:
    """Seconds per training step of ``batch`` samples: ``fw.train`` over ``steps`` batches for
    1 + ``repeats`` epochs, each epoch's end stamped by the progress callback; the first epoch
    (Keras's tracing, torch's and NumPy's warm-up) is dropped and the fastest later epoch kept."""
    stamps = []
    n = steps * batch
    start = time.perf_counter()
    fw.train(net, X[:n], y[:n], epochs=1 + repeats, batch_size=batch, seed=0,
             progress=lambda record: stamps.append(time.perf_counter()))
    epoch_times = np.diff([start, *stamps])[1:]
    return float(epoch_times.min()) / steps


def time_inference(fw, net, X, repeats: int = 5) -> float:
    """Seconds per ``predict`` of the batch ``X`` (best of ``repeats``, after one warm-up)."""
    fw.predict(net, X)
    return min(_timed(lambda: fw.predict(net, X)) for _ in range(repeats))


def _problem(model: str, steps: int):
    """Random float32 data for ``steps`` batches of the spec's bench batch size (and sequence length)."""
    spec = get_spec(model)
    config = resolve(model)
    batch = spec.bench.get("batch_size") or spec.training["batch_size"] or 128
    X, y = parity_problem(model, config, batch * steps, seed=0, seq_len=spec.bench.get("seq_len"))
    return config, batch, X.astype(np.float32), y if spec.task == "classification" else y.astype(np.float32)


def run_bench(models, frameworks=FRAMEWORKS, steps: int = 10, progress=print) -> list[dict]:
    """One row per (model, framework): ms per training step and per inference batch, samples/s,
    ratio to the fastest framework, GFLOP/s and its fraction of the measured matmul rate.

    Frameworks run one after the other (all models in scratch, then torch, then Keras): once
    TensorFlow has trained in a process, NumPy code timed after it runs about 1.4× slower on this
    machine (measured, cause not pinned down), so Keras goes last."""
    steps = TRAINING_RULES["epochs"](None, "steps", steps)  # a count ≥ 1, checked like epochs
    peak = matmul_gflops()
    problems = {model: _problem(model, steps) for model in models}
    weights, rows = {}, []
    for name in frameworks:
        try:
            fw = get_framework(name)
        except FrameworkUnavailable as exc:
            if progress:
                progress(f"  {name}: skipped ({exc})")
            continue
        for model, (config, batch, X, y) in problems.items():
            net = fw.build(model, dtype="float32")
            fw.set_weights(net, weights.setdefault(model, fw.get_weights(net)))  # the same start everywhere
            if progress:
                progress(f"  {model} · {name}: timing {steps} training steps at batch {batch}…")
            step = time_training_step(fw, net, X, y, batch, steps)
            infer = time_inference(fw, net, X[:batch])
            flops = 3 * forward_flops(model, config, get_spec(model).bench.get("seq_len")) * batch  # forward + two backward matmuls per layer
            rows.append(dict(model=model, framework=name, batch=batch, ms_per_step=step * 1e3,
                             train_samples_per_s=batch / step, ms_per_inference_batch=infer * 1e3,
                             inference_samples_per_s=batch / infer, gflops=flops / step / 1e9,
                             matmul_gflops=peak, fraction_of_matmul=flops / step / 1e9 / peak))
    rows.sort(key=lambda r: (list(models).index(r["model"]), FRAMEWORKS.index(r["framework"])))
    for row in rows:
        same_model = [r for r in rows if r["model"] == row["model"]]
        row["ratio_to_fastest"] = row["ms_per_step"] / min(r["ms_per_step"] for r in same_model)
        row["inference_ratio_to_fastest"] = (row["ms_per_inference_batch"]
                                             / min(r["ms_per_inference_batch"] for r in same_model))
    return rows


def format_bench(rows: list[dict]) -> str:
    if not rows:
        return "no frameworks to time"
    lines = [f"float32; NumPy float32 matmul on this machine: {rows[0]['matmul_gflops']:.1f} GFLOP/s",
             f"{'model':<10} {'framework':<9} {'batch':>5} {'ms/step':>9} {'× fastest':>10} {'samples/s':>10} "
             f"{'GFLOP/s':>8} {'% matmul':>9} {'ms/predict':>11} {'× fastest':>10}"]
    for r in rows:
        lines.append(f"{r['model']:<10} {r['framework']:<9} {r['batch']:>5} {r['ms_per_step']:>9.1f} "
                     f"{r['ratio_to_fastest']:>10.2f} {r['train_samples_per_s']:>10.0f} {r['gflops']:>8.2f} "
                     f"{100 * r['fraction_of_matmul']:>8.1f}% "
                     f"{r['ms_per_inference_batch']:>11.2f} {r['inference_ratio_to_fastest']:>10.2f}")
    return "\n".join(lines)
