"""Where a scratch recurrent training step spends its time, at the bench's shapes (``triptych bench``):
the time loops' matmuls, the time loops' element-wise NumPy calls, the whole-sequence element-wise
work around the loops, and the kernel-gradient matmuls.

    .venv/bin/python tools/profile_recurrent.py [--dtype float32] [--repeats 20]

The loops' matmuls are timed again on their own, same shapes and same single BLAS thread, so the
element-wise share is what is left of each loop.  Every figure is the best of ``--repeats`` runs, in
CPU milliseconds per training step (one forward and one backward pass of the recurrent layer), all on
one BLAS thread (the kernel gradients run on all threads in training).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from scratch.fast.ops import single_blas_thread
from scratch.fast.recurrent import GRU, LSTM, SimpleRNN
from triptych.registry import get_spec

CELLS = {"rnn": SimpleRNN, "gru": GRU, "lstm": LSTM}


def best_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1e3 * min(times)


def profile(model: str, dtype: str, repeats: int) -> dict:
    spec, cell = get_spec(model), CELLS[model]
    f, u = spec.arch["in_features"], spec.arch["units"]
    n, steps, k = spec.bench["batch_size"], spec.bench["seq_len"], cell.GATES
    rng = np.random.default_rng(0)
    W, U = (0.1 * rng.standard_normal(s).astype(dtype) for s in ((f, k * u), (u, k * u)))
    b = np.zeros((k * u,) if cell.BIAS_ROWS == 1 else (2, k * u), dtype)
    op, x, dh = cell(W, U, b), rng.standard_normal((n, steps, f)).astype(dtype), rng.standard_normal((n, u)).astype(dtype)
    def with_one_thread(fn, *args):  # as the layer's forward and backward run
        with single_blas_thread():
            return fn(*args)

    for _ in range(3):  # warm-up: allocations, BLAS and threadpoolctl set-up
        op.forward(x)
        with_one_thread(op._bptt, dh)
    h, z = np.ones((n, u), dtype), np.ones((n, k * u), dtype)
    U_T, out_f, out_b = np.ascontiguousarray(U.T), np.empty((n, k * u), dtype), np.empty((n, u), dtype)

    def loop_matmuls(a, B, out):
        with single_blas_thread():
            for _ in range(steps):
                np.matmul(a, B, out=out)

    figures = {"forward": best_ms(lambda: op.forward(x), repeats),
               "bptt": best_ms(lambda: with_one_thread(op._bptt, dh), repeats),
               "kernel gradients": best_ms(lambda: with_one_thread(op._param_grads, dh), repeats),
               "loop matmuls, forward": best_ms(lambda: loop_matmuls(h, U, out_f), repeats),
               "loop matmuls, backward": best_ms(lambda: loop_matmuls(z, U_T, out_b), repeats)}
    figures["element-wise, forward"] = figures["forward"] - figures["loop matmuls, forward"]
    figures["element-wise, backward"] = figures["bptt"] - figures["loop matmuls, backward"]
    figures["total"] = figures["forward"] + figures["bptt"] + figures["kernel gradients"]
    return dict(shape=f"N={n} T={steps} F={f} u={u}", **figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rows = {model: profile(model, args.dtype, args.repeats) for model in CELLS}
    keys = [k for k in next(iter(rows.values())) if k != "shape"]
    print(f"CPU ms per step of the recurrent layer ({args.dtype}), one BLAS thread")
    print(f"{'':24}" + "".join(f"{m:>10}" for m in rows))
    for key in keys:
        print(f"{key:24}" + "".join(f"{rows[m][key]:10.2f}" for m in rows))
    for model, row in rows.items():
        share = (row["element-wise, forward"] + row["element-wise, backward"]) / row["total"]
        print(f"{model}: {row['shape']}; element-wise NumPy work (in and around the time loops): {100 * share:.0f} % of the layer")


if __name__ == "__main__":
    main()
