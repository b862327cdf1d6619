"""The `triptych` command line: help, train (incl. from a CSV), summary, parity exit codes, clean errors,
the report's command joining through its entry point, --verbose and --scratch-kernels."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest

from triptych.cli import main


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "triptych.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("train", "summary", "parity", "convert", "bench", "report"):
        assert command in out.stdout


def test_train_linreg_from_csv_in_every_framework(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 1))
    y = 3.0 * X[:, 0] - 1.0 + rng.normal(scale=0.01, size=300)
    path = tmp_path / "points.csv"
    path.write_text("x,y\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in zip(X[:, 0], y)))
    assert main(["train", "linreg", "--data", str(path), "--epochs", "5", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "CSV" in out and "300 rows × 1 features" in out
    for name in ("scratch", "torch", "keras"):
        line = next(l for l in out.splitlines() if l.startswith(f"[{name}] w ="))
        w = float(line.split("[")[2].split("]")[0])
        b = float(line.split("b =")[1])
        assert abs(w - 3.0) < 0.01 and abs(b + 1.0) < 0.01, line


def test_train_xor_prints_progress_and_metrics(capsys):
    assert main(["train", "xor", "--framework", "scratch"]) == 0
    out = capsys.readouterr().out
    assert "  [scratch] training epoch 200/200  loss " in out and "accuracy 1.0000" in out


def test_summary_shows_41_parameters(capsys):
    assert main(["summary", "xor"]) == 0
    out = capsys.readouterr().out
    assert out.count(" 41\n") == 3 and "| `hidden1.W` | (2, 10) |" in out


def test_parity_json_and_exit_codes(capsys, monkeypatch):
    assert main(["parity", "linreg", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["rung"] for r in rows} == {1, 2, 3, 4, 5, 6} and all(r["passed"] for r in rows)

    from torch_impl import linreg as torch_linreg  # a wrong torch loss must turn the exit code non-zero
    monkeypatch.setattr(torch_linreg, "loss", lambda: torch_linreg.nn.L1Loss())
    assert main(["parity", "linreg", "--frameworks", "scratch", "torch"]) == 1
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "linreg", "--data", "/nonexistent.csv"], "cannot read CSV"),
    (["parity", "vgg16"], "unknown model 'vgg16'"),
    (["train", "xor", "--lr", "-1"], "option 'lr' must be a finite number > 0, got -1.0"),
    (["summary", "xor", "--set", "hiden=3"], "has no option 'hiden'"),
])
def test_errors_exit_2_with_one_clear_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("triptych: error:") and message in err


def test_csv_with_bad_rows(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3,oops\n")
    assert main(["train", "linreg", "--data", str(path)]) == 2
    assert "data row 2, column 2 is 'oops', not a plain number" in capsys.readouterr().err
    path.write_text("1,2\n3,nan\n")
    assert main(["train", "linreg", "--data", str(path)]) == 2
    assert "NaN/inf" in capsys.readouterr().err


def test_bench_prints_ratios_and_gflops(capsys):
    """The bench is a command, not a timed test: check only that it reports every column."""
    from triptych.bench import forward_flops, run_bench
    from triptych.registry import resolve

    assert forward_flops("mnist_cnn", resolve("mnist_cnn")) == 2 * (26 * 26 * 9 * 32 + 11 * 11 * 9 * 32 * 64 + 1600 * 10)
    assert forward_flops("lstm", resolve("lstm")) == 2 * (28 * (28 + 64) * 256 + 64 * 10)
    rows = run_bench(["house_mlp"], frameworks=("scratch", "torch"), steps=2, rounds=1, threads=1, progress=None)
    assert [r["framework"] for r in rows] == ["scratch", "scratch[reference]", "torch"]  # scratch with both kernel sets
    assert min(r["ratio_to_fastest"] for r in rows) == 1.0
    assert min(r["baseline_ms_per_step"] for r in rows) * min(r["ratio_to_fastest_baseline"] for r in rows) \
        == pytest.approx(min(r["ms_per_step"] for r in rows))
    assert all(r["ms_per_step"] > 0 and r["baseline_ms_per_step"] > 0 and r["gflops"] > 0 and r["matmul_gflops"] > 0
               and r["peak_mb"] is not None and r["peak_mb"] >= 0 and r["threads"] >= 1 for r in rows)
    assert main(["bench", "linreg", "--framework", "scratch", "--steps", "2", "--rounds", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "GFLOP/s" in out and "× fastest plain" in out and "plain ms/step" in out and "linreg" in out
    assert "scratch[reference]" in out
    assert main(["bench", "linreg", "--framework", "scratch", "--steps", "2", "--rounds", "1", "--threads", "1",
                 "--scratch-kernels", "reference", "--json"]) == 0
    assert [r["framework"] for r in json.loads(capsys.readouterr().out)] == ["scratch[reference]"]


def test_bench_without_names_times_every_registered_model():
    from triptych.bench import default_models
    from triptych.registry import MODELS
    assert default_models() == list(MODELS)
    assert {"resnet", "autoencoder", "bilstm", "transformer"} <= set(default_models())


def test_bench_json_float64_and_threads(capsys):
    """--json prints only the records (progress goes to stderr); --dtype float64 and --threads reach every row."""
    assert main(["bench", "linreg", "house_mlp", "--framework", "torch", "--steps", "2", "--rounds", "1",
                 "--dtype", "float64", "--threads", "1", "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [(r["model"], r["framework"]) for r in rows] == [("linreg", "torch"), ("house_mlp", "torch")]
    assert all({"ms_per_step", "baseline_ms_per_step", "gflops", "matmul_gflops", "peak_mb"} <= set(r) for r in rows)
    assert all(r["dtype"] == "float64" and r["threads"] == 1 for r in rows)
    assert "house_mlp · torch" in captured.err
    assert main(["bench", "linreg", "--steps", "0"]) == 2



@pytest.mark.parametrize("env, cpus, expected", [("1", {0, 1}, 1), ("3", {0}, 3), (None, {0}, 1), ("x", {0, 1}, 2)])
def test_bench_keras_threads_are_the_pool_tensorflow_starts(monkeypatch, env, cpus, expected):
    """TensorFlow's intra-op setting reads 0 until set: then the bench's threads column shows what TensorFlow starts,
    TF_NUM_INTRAOP_THREADS or the CPUs of this process's affinity (taskset), not the machine's CPU count."""
    keras_baseline = pytest.importorskip("keras_impl.baseline")
    if keras_baseline.keras.backend.backend() != "tensorflow":
        pytest.skip("the threads figure is TensorFlow's")
    import tensorflow as tf
    monkeypatch.setattr(tf.config.threading, "get_intra_op_parallelism_threads", lambda: 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: cpus)
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    if env is None:
        monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    else:
        monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", env)
    with keras_baseline.thread_limit(None) as used:
        assert used == expected


ROOT = Path(__file__).resolve().parents[1]


def test_the_report_and_compare_commands_come_from_their_entry_points():
    """pyproject declares the report's and the porting toolkit's commands; the installed metadata carries them
    (else: pip install -e .), and the parser offers both."""
    from triptych.cli import build_parser
    from triptych.commands import GROUP, Command, installed_commands

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    assert declared == {"report": "reports.generate:COMMAND", "compare": "porting.command:COMMAND"}
    commands = {c.name: c for c in installed_commands()}
    assert set(declared) <= set(commands), "stale metadata: reinstall with pip install -e ."
    assert all(isinstance(commands[name], Command) for name in declared)
    assert commands["report"].scratch_kernels and not commands["compare"].scratch_kernels
    args = build_parser().parse_args(["compare", "a.py:build", "b.py:build", "--loss", "cross_entropy"])
    assert args.func is commands["compare"].run and args.loss == "cross_entropy"


def test_a_broken_command_entry_point_is_left_out_with_a_warning(monkeypatch, capsys):
    from importlib.metadata import EntryPoint

    from triptych import commands

    broken = EntryPoint("bad", "triptych.no_such_module:COMMAND", commands.GROUP)
    monkeypatch.setattr(commands, "entry_points", lambda group: [broken])
    assert commands.installed_commands() == []
    assert "command 'bad' (triptych.no_such_module:COMMAND) cannot be loaded" in capsys.readouterr().err


def test_verbose_and_scratch_kernels_are_set_before_any_framework_loads():
    """The environment as scratch's backend first sees it, recorded when its module is imported."""
    code = textwrap.dedent("""
        import importlib.abc, os, sys
        seen = {}
        class Watch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name in ("scratch.framework", "torch", "tensorflow") and name not in seen:
                    seen[name] = (os.environ.get("TRIPTYCH_VERBOSE"), os.environ.get("TRIPTYCH_SCRATCH_KERNELS"))
        sys.meta_path.insert(0, Watch())
        from triptych.cli import main
        code = main(sys.argv[1:])
        print("SEEN", seen.get("scratch.framework"), "torch" in seen or "tensorflow" in seen, code)
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("TRIPTYCH_VERBOSE", "TRIPTYCH_SCRATCH_KERNELS")}
    out = subprocess.run([sys.executable, "-c", code, "train", "xor", "--framework", "scratch", "--epochs", "1",
                          "--verbose", "--scratch-kernels", "reference"], capture_output=True, text=True, env=env,
                         timeout=300)
    assert "SEEN ('1', 'reference') False 0" in out.stdout, out.stdout + out.stderr
    out = subprocess.run([sys.executable, "-c", code, "summary", "xor", "--framework", "scratch"], capture_output=True,
                         text=True, env=env, timeout=300)
    assert "SEEN (None, None) False 0" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("command", ["train xor", "summary xor", "parity xor", "convert a.npz b.pt", "bench", "report",
                                     "study house"])
def test_every_command_takes_verbose_and_the_training_ones_scratch_kernels(command):
    from triptych.cli import build_parser

    args = build_parser().parse_args([*command.split(), "--verbose"])
    assert args.verbose is True
    trains = command.split()[0] in ("train", "parity", "bench", "report")
    assert hasattr(args, "scratch_kernels") == trains
    if trains:
        assert build_parser().parse_args([*command.split(), "--scratch-kernels", "reference"]).scratch_kernels == \
            "reference"
        with pytest.raises(SystemExit):
            build_parser().parse_args([*command.split(), "--scratch-kernels", "quick"])
