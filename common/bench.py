"""``triptych bench``: milliseconds per training step at the model's default batch size (128 for the
MNIST models) in float32, for each framework,
with the ratio to the fastest and the GFLOP/s achieved against NumPy's own float32 matmul rate.

A step is timed as the difference between two ``train`` calls of ``warmup`` and ``warmup + steps``
batches, so what every call pays once (Keras's compile and tracing, torch's optimizer set-up)
cancels out.  Best of ``repeats``.
"""
from __future__ import annotations

import time

import numpy as np

from common.canonical import conv_output_size
from common.frameworks import FRAMEWORKS, FrameworkUnavailable, get_framework
from common.parity import parity_problem
from common.specs import get_spec, resolve

SEQ_LEN = 28  # the LSTM reads 28 rows


def forward_flops(model: str, config: dict, seq_len: int = SEQ_LEN) -> int:
    """Floating-point operations (2 per multiply-add) of one sample's forward pass, matmuls only."""
    if model == "mnist_cnn":
        k, p, (f1, f2) = config["kernel_size"], config["pool_size"], config["filters"]
        h1, w1 = (s - k + 1 for s in config["image_size"])
        h2, w2 = h1 // p - k + 1, w1 // p - k + 1
        flat = conv_output_size(h1 // p, k, p) * conv_output_size(w1 // p, k, p) * f2
        macs = h1 * w1 * k * k * f1 + h2 * w2 * k * k * f1 * f2 + flat * config["num_classes"]
    elif model == "lstm":
        u = config["units"]
        macs = seq_len * (config["in_features"] + u) * 4 * u + u * config["num_classes"]
    else:
        from common.canonical import layout
        macs = sum(int(np.prod(shape)) for name, (shape, _) in layout(model, config).items() if name.endswith(".W"))
    return 2 * macs


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


def time_training_step(fw, net, X, y, batch: int, steps: int, warmup: int = 2, repeats: int = 3) -> float:
    """Seconds per training step of ``batch`` samples (see the module docstring)."""
    def run(n_steps):
        n = n_steps * batch
        return _timed(lambda: fw.train(net, X[:n], y[:n], epochs=1, batch_size=batch, seed=0))
    return max(min(run(warmup + steps) - run(warmup) for _ in range(repeats)) / steps, 1e-9)


def time_inference(fw, net, X, repeats: int = 5) -> float:
    """Seconds per ``predict`` of the batch ``X`` (best of ``repeats``, after one warm-up)."""
    fw.predict(net, X)
    return min(_timed(lambda: fw.predict(net, X)) for _ in range(repeats))


def run_bench(models, frameworks=FRAMEWORKS, steps: int = 10, progress=print) -> list[dict]:
    """One row per (model, framework): ms per training step and per inference batch, samples/s,
    ratio to the fastest framework, GFLOP/s and its fraction of the measured matmul rate."""
    peak = matmul_gflops()
    rows = []
    for model in models:
        config = resolve(model)
        seq_len = SEQ_LEN if model == "lstm" else None
        batch = get_spec(model).training["batch_size"] or 128
        X, y = parity_problem(model, config, batch * (steps + 2), seed=0, seq_len=seq_len)
        X = X.astype(np.float32)
        if get_spec(model).task != "classification":
            y = y.astype(np.float32)
        flops = 3 * forward_flops(model, config) * batch  # forward + two backward matmuls per layer
        start_weights, model_rows = None, []
        for name in frameworks:
            try:
                fw = get_framework(name)
            except FrameworkUnavailable as exc:
                if progress:
                    progress(f"  {model} · {name}: skipped ({exc})")
                continue
            net = fw.build(model, dtype="float32")
            if start_weights is None:
                start_weights = fw.get_weights(net)
            fw.set_weights(net, start_weights)
            if progress:
                progress(f"  {model} · {name}: timing {steps} training steps at batch {batch}…")
            step = time_training_step(fw, net, X, y, batch, steps)
            infer = time_inference(fw, net, X[:batch])
            model_rows.append(dict(model=model, framework=name, batch=batch, ms_per_step=step * 1e3,
                                   train_samples_per_s=batch / step, ms_per_inference_batch=infer * 1e3,
                                   inference_samples_per_s=batch / infer, gflops=flops / step / 1e9,
                                   matmul_gflops=peak))
        fastest = min(r["ms_per_step"] for r in model_rows) if model_rows else 1.0
        fastest_inference = min(r["ms_per_inference_batch"] for r in model_rows) if model_rows else 1.0
        for row in model_rows:
            row["ratio_to_fastest"] = row["ms_per_step"] / fastest
            row["inference_ratio_to_fastest"] = row["ms_per_inference_batch"] / fastest_inference
            row["fraction_of_matmul"] = row["gflops"] / peak
        rows += model_rows
    return rows


def format_bench(rows: list[dict]) -> str:
    if not rows:
        return "no frameworks to time"
    lines = [f"float32; NumPy float32 matmul on this machine: {rows[0]['matmul_gflops']:.1f} GFLOP/s",
             f"{'model':<10} {'framework':<9} {'batch':>5} {'ms/step':>9} {'× fastest':>10} {'samples/s':>10} "
             f"{'GFLOP/s':>8} {'% matmul':>9} {'ms/predict':>11} {'× fastest':>10}"]
    for r in rows:
        lines.append(f"{r['model']:<10} {r['framework']:<9} {r['batch']:>5} {r['ms_per_step']:>9.1f} {r['ratio_to_fastest']:>10.2f} "
                     f"{r['train_samples_per_s']:>10.0f} {r['gflops']:>8.2f} {100 * r['fraction_of_matmul']:>8.1f}% "
                     f"{r['ms_per_inference_batch']:>11.2f} {r['inference_ratio_to_fastest']:>10.2f}")
    return "\n".join(lines)
