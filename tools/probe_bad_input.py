"""A bad-input probe through the public API and the CLI, as a hostile new user would try it.

    PYTHONPATH=. python tools/probe_bad_input.py [--only SUBSTRING] [--verbose]

Each case says what should happen — an error whose message matches a pattern, or success passing a
check — and whether files must survive it.  Outcomes:

    clear error     a ValueError (CLI: exit 2, one line) naming what the case expects
    unclear error   a ValueError that does not say what the case expects (e.g. a bare int() message)
    valid accepted  a valid input accepted, with the right result
    raw traceback   any other exception escaping (a framework's crash, a TypeError, …)
    silent wrong    accepted when it should have been refused, or a wrong or empty result
    data lost       a file that existed before was changed or removed by a failing run

API cases of one framework run in all three; "inconsistent" counts cases whose three messages differ.
Uses only the public API (get_framework, triptych.data, triptych.mnist, triptych.cli.main), so it
runs against older trees too.
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="triptych-probe-"))
READ_ONLY = Path("/sys") if os.geteuid() == 0 else None  # set up below for a normal user
FRAMEWORKS = ("scratch", "torch", "keras")
EXT = {"scratch": ".npz", "torch": ".pt", "keras": ".weights.h5"}


@dataclass
class Case:
    name: str
    run: Callable  # (fw or None) -> result; raise for errors
    expect: str | None  # regex the error must match; None: must succeed
    check: Callable | None = None  # result -> bool, for successes
    per_framework: bool = False
    keep: list = field(default_factory=list)  # files whose bytes must survive
    cli: bool = False


CASES: list[Case] = []


def case(name, expect=None, check=None, per_framework=False, keep=(), cli=False):
    def register(fn):
        CASES.append(Case(name, fn, expect, check, per_framework, list(keep), cli))
        return fn
    return register


def api(name, expect, call, check=None):
    CASES.append(Case(name, call, expect, check, per_framework=True))


def run_cli(argv) -> tuple:
    """(exit status, stdout, stderr) of ``triptych ARGV`` in this process; {tmp} in an argument is the probe's folder."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a).replace("{tmp}", str(TMP)) for a in argv])
        except SystemExit as exc:  # argparse, or a plugin's sys.exit
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def cli(name, argv, expect, keep=(), check=None):
    CASES.append(Case(name, lambda _: run_cli(argv), expect, check, keep=list(keep), cli=True))


def tmpfile(name: str, data: bytes | str) -> str:
    path = TMP / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


# ---------------------------------------------------------------- set-up

from triptych.frameworks import get_framework  # noqa: E402
from triptych.cli import main  # noqa: E402
from triptych.data import load_csv, xor_data  # noqa: E402
from triptych import mnist  # noqa: E402

ROOT = Path(mnist.__file__).resolve().parents[1]  # the tree under test
os.chdir(TMP)  # "--out ." must never point into the tree
X4, Y4 = xor_data()
nan, inf = float("nan"), float("inf")
scratch = get_framework("scratch")
GOOD = scratch.get_weights(scratch.build("xor"))


def build(model, **kw):
    return lambda fw: fw.build(model, **kw)


def train(model="xor", X=X4, y=Y4, overrides=None, **kw):
    return lambda fw: fw.train(fw.build(model, **(overrides or {})), X, y, **{"epochs": 1, **kw})


# ---------------------------------------------------------------- API: build

for model, kw, pattern in [
    ("resnet50", {}, r"unknown model 'resnet50'"),
    ("xor", dict(hidden=(0,)), r"hidden"), ("xor", dict(hidden=-1), r"hidden"), ("xor", dict(hidden="x"), r"hidden"),
    ("xor", dict(hidden=2.5), r"hidden"), ("house_mlp", dict(hidden=(13, 0)), r"hidden"),
    ("lstm", dict(units=0), r"units"), ("lstm", dict(units=-3), r"units"), ("lstm", dict(units=1.5), r"units"),
    ("linreg", dict(in_features=0), r"in_features"), ("linreg", dict(in_features=None), r"in_features"),
    ("mnist_cnn", dict(filters=(0, 0)), r"filters"), ("mnist_cnn", dict(filters=(4,)), r"filters"),
    ("mnist_cnn", dict(pool_size=0), r"pool_size"), ("mnist_cnn", dict(kernel_size=100), r"kernel_size"),
    ("mnist_cnn", dict(kernel_size=0), r"kernel_size"), ("mnist_cnn", dict(image_size=(5, 5)), r"no pixels"),
    ("mnist_cnn", dict(dropout=1.5), r"dropout"), ("house_mlp", dict(dropout=-0.1), r"dropout"),
    ("xor", dict(activation="bogus"), r"activation"), ("house_mlp", dict(init="bogus"), r"init"),
    ("xor", dict(init="he_normal"), r"init"), ("lstm", dict(num_classes=1), r"num_classes"),
    ("xor", dict(seed=-1), r"seed"), ("xor", dict(seed=2 ** 40), r"seed"), ("xor", dict(seed="3"), r"seed"),
    ("xor", dict(seed=1.5), r"seed"), ("xor", dict(dtype="float16"), r"dtype"), ("xor", dict(dtype="int32"), r"dtype"),
    ("xor", dict(widht=3), r"no option 'widht'"),
]:
    api(f"build {model} {kw}", pattern, build(model, **kw))
for model, kw, check in [
    ("xor", dict(hidden=13), lambda net: net.config["hidden"] == (13,)),
    ("house_mlp", dict(hidden=[8, 8]), lambda net: net.config["hidden"] == (8, 8)),
    ("xor", dict(seed=np.int64(5)), lambda net: True),
    ("xor", dict(dtype=np.float32), lambda net: net.dtype == "float32"),
    ("mnist_cnn", dict(filters=[4, 8]), lambda net: net.config["filters"] == (4, 8)),
]:
    api(f"build {model} {kw} (valid)", None, build(model, **kw), check)
CASES.append(Case("get_framework('jax')", lambda _: get_framework("jax"), r"unknown framework 'jax'"))

# ---------------------------------------------------------------- API: train options

for kw, pattern in [
    (dict(epochs=0), r"epochs"), (dict(epochs=-1), r"epochs"), (dict(epochs=1.5), r"epochs"),
    (dict(epochs="3"), r"epochs"), (dict(epochs=True), r"epochs"),
    (dict(batch_size=0), r"batch_size"), (dict(batch_size=-1), r"batch_size"), (dict(batch_size=2.5), r"batch_size"),
    (dict(lr=0), r"lr"), (dict(lr=-1), r"lr"), (dict(lr=inf), r"lr"), (dict(lr=nan), r"lr"), (dict(lr="0.1"), r"lr"),
    (dict(seed=-1), r"seed"), (dict(seed=1.5), r"seed"),
    (dict(optimizer="nadam"), r"unknown optimizer 'nadam'"), (dict(optimizer="sgd", beta_1=0.5), r"takes no option 'beta_1'"),
    (dict(momentum=-0.5), r"momentum"), (dict(momentum=1.5), r"momentum"), (dict(momentum=nan), r"momentum"),
    (dict(nesterov=True), r"nesterov"), (dict(momentum=0.9, nesterov="yes"), r"nesterov"),
    (dict(weight_decay=-1.0), r"weight_decay"), (dict(optimizer="adam", epsilon=-1.0), r"epsilon"),
    (dict(optimizer="adam", epsilon=0.0), r"epsilon"), (dict(optimizer="adam", beta_1=1.0), r"beta_1"),
    (dict(optimizer="adam", beta_2=1.5), r"beta_2"), (dict(optimizer="adam", weight_decay=-0.1), r"weight_decay"),
    (dict(lr_decay="cosine"), r"lr_decay"), (dict(lr_decay="linear", decay_rate=-0.1), r"decay_rate"),
    (dict(decay_rate=0.5), r"decay_rate"), (dict(lr_decay="exponential", decay_rate=-0.5), r"decay_rate"),
    (dict(eval_every=0), r"eval_every"), (dict(keep_best="yes"), r"keep_best"),
    (dict(X_val=X4), r"X_val and y_val"), (dict(progress=3), r"progress"),
]:
    api(f"train xor {kw}", pattern, train(**kw))
api("train linreg lr=1e3 (diverges)", r"training diverged.*step \d+.*last finite loss",
    train("linreg", *__import__("triptych.data", fromlist=["linreg_data"]).linreg_data(200), lr=1e3, epochs=20))
api("train xor numpy scalars (valid)", None, train(epochs=np.int64(2), batch_size=np.int32(2), lr=np.float32(0.1),
                                                   seed=np.uint8(3)), lambda h: len(h["loss"]) == 4)
api("train xor linear decay (valid)", None, train(lr_decay="linear", decay_rate=0.1, epochs=2), lambda h: len(h["loss"]) == 8)
api("train xor adam options (valid)", None, train(optimizer="adam", beta_1=0.5, epsilon=1e-8), lambda h: len(h["loss"]) == 4)

# ---------------------------------------------------------------- API: inputs

IMG = np.zeros((2, 28, 28))
for name, model, overrides, call, X, y, pattern in [
    ("X wrong width", "linreg", {}, "predict", np.zeros((5, 3)), None, r"shape \(5, 3\)"),
    ("X 1-D", "linreg", {}, "predict", np.zeros(5), None, r"shape \(5,\)"),
    ("X empty", "linreg", {}, "predict", np.zeros((0, 2)), None, r"N ≥ 1"),
    ("X NaN", "xor", {}, "train", np.full((4, 2), nan), Y4, r"NaN/inf"),
    ("X inf", "xor", {}, "predict", np.full((4, 2), inf), None, r"NaN/inf"),
    ("X complex", "linreg", {}, "predict", np.ones((2, 2)) * 1j, None, r"real numbers"),
    ("X strings", "linreg", {}, "predict", np.array([["1", "2"]]), None, r"real numbers"),
    ("X ragged", "linreg", {}, "predict", [[1.0, 2.0], [3.0]], None, r"real numbers|shape"),
    ("X None", "linreg", {}, "predict", None, None, r"real numbers|shape"),
    ("X 1e300 in float32", "linreg", {"dtype": "float32"}, "predict", np.full((1, 2), 1e300), None, r"float32|NaN/inf"),
    ("y wrong shape", "xor", {}, "loss", X4, np.zeros((4, 2)), r"shape \(4, 2\)"),
    ("y NaN", "xor", {}, "loss", X4, np.full(4, nan), r"NaN/inf"),
    ("binary y = 2", "xor", {}, "loss", X4, np.array([0, 1, 2, 0]), r"\[0, 1\]"),
    ("binary y = -0.5", "xor", {}, "train", X4, np.array([0, 1, -0.5, 0]), r"\[0, 1\]"),
    ("y strings", "xor", {}, "loss", X4, np.array(["0", "1", "1", "0"]), r"real numbers|numeric"),
    ("labels 10", "mnist_cnn", {"filters": (2, 2)}, "loss", IMG, np.array([3, 10]), r"0\.\.9"),
    ("labels -1", "mnist_cnn", {"filters": (2, 2)}, "loss", IMG, np.array([-1, 3]), r"0\.\.9"),
    ("labels 0.5", "mnist_cnn", {"filters": (2, 2)}, "loss", IMG, np.array([0.5, 1.0]), r"whole numbers"),
    ("labels (N, 1)", "mnist_cnn", {"filters": (2, 2)}, "loss", IMG, np.array([[1], [2]]), r"shape \(2, 1\)"),
    ("labels bool", "mnist_cnn", {"filters": (2, 2)}, "loss", IMG, np.array([True, False]), r"integers"),
    ("images 27 wide", "mnist_cnn", {"filters": (2, 2)}, "predict", np.zeros((2, 28, 27)), None, r"shape \(2, 28, 27\)"),
    ("sequence of length 0", "lstm", {"units": 3}, "predict", np.zeros((2, 0, 28)), None, r"shape \(2, 0, 28\)"),
]:
    calls = {"predict": lambda fw, net, X, y: fw.predict(net, X), "loss": lambda fw, net, X, y: fw.loss_and_grads(net, X, y),
             "train": lambda fw, net, X, y: fw.train(net, X, y, epochs=1)}
    api(f"{call} {model}: {name}", pattern,
        lambda fw, model=model, overrides=overrides, call=call, X=X, y=y: calls[call](fw, fw.build(model, **overrides), X, y))
api("predict xor on a list (valid)", None, lambda fw: fw.predict(fw.build("xor"), [[0, 1]]), lambda out: out.shape == (1, 1))
api("train xor with 1-D y (valid)", None, lambda fw: fw.train(fw.build("xor"), X4, Y4.ravel(), epochs=1),
    lambda h: len(h["loss"]) == 4)

# ---------------------------------------------------------------- API: weights

for name, weights, dtype, pattern in [
    ("missing", {k: v for k, v in GOOD.items() if k != "output.b"}, "float64", r"missing output\.b"),
    ("extra", {**GOOD, "x.W": np.zeros(2)}, "float64", r"unexpected 'x\.W'"),
    ("transposed", {**GOOD, "hidden1.W": GOOD["hidden1.W"].T}, "float64", r"shape \(10, 2\)"),
    ("NaN in the last", {**GOOD, "output.b": np.array([nan])}, "float64", r"NaN"),
    ("int dtype", {**GOOD, "output.b": np.array([1])}, "float64", r"dtype int64"),
    ("complex", {**GOOD, "output.b": np.array([1j])}, "float64", r"dtype complex"),
    ("1e300 into float32", {**GOOD, "output.b": np.array([1e300])}, "float32", r"float32"),
    ("a list", list(GOOD.values()), "float64", r"dict"),
]:
    api(f"set_weights: {name}", pattern, lambda fw, w=weights, d=dtype: fw.set_weights(fw.build("xor", dtype=d), w))
def set_float16(fw):
    net = fw.build("xor")
    fw.set_weights(net, {k: v.astype(np.float16) for k, v in GOOD.items()})
    return fw.get_weights(net)


api("set_weights: float16 arrays (valid)", None, set_float16,
    lambda w: all(np.array_equal(w[k], GOOD[k].astype(np.float16)) for k in GOOD))
api("predict with a net of another framework", r"built by", lambda fw: get_framework(
    "torch" if fw.name != "torch" else "scratch").predict(fw.build("xor"), X4))

# ---------------------------------------------------------------- API: checkpoints


def checkpoint(fw, model="xor", name=None):
    path = str(TMP / "ckpt" / (name or f"{model}_{fw.name}{EXT[fw.name]}"))
    Path(path).parent.mkdir(exist_ok=True)
    fw.save(fw.build(model), path)
    return path


def truncated(fw):
    path = checkpoint(fw, name=f"trunc{EXT[fw.name]}")
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 3])
    return fw.load(fw.build("xor"), path)


api("load a missing checkpoint", r"does not exist", lambda fw: fw.load(fw.build("xor"), str(TMP / f"none{EXT[fw.name]}")))
api("load a truncated checkpoint", r"trunc", truncated)
api("load another model's checkpoint", r"match|linreg.*xor", lambda fw: fw.load(fw.build("xor"), checkpoint(fw, "linreg")))
api("save with another framework's extension", r"must end in",
    lambda fw: fw.save(fw.build("xor"), str(TMP / ("w.pt" if fw.name == "scratch" else "w.npz"))))
api("save into a missing folder", r"does not exist", lambda fw: fw.save(fw.build("xor"), str(TMP / "no" / f"w{EXT[fw.name]}")))
api("save onto a folder", r"folder", lambda fw: fw.save(fw.build("xor"), str((TMP / f"dir{EXT[fw.name]}").resolve())))
(TMP / "dir.npz").mkdir(), (TMP / "dir.pt").mkdir(), (TMP / "dir.weights.h5").mkdir()
if READ_ONLY:
    api("save into a read-only folder", r"cannot write", lambda fw: fw.save(fw.build("xor"), str(READ_ONLY / f"w{EXT[fw.name]}")))


@case("load a pickled .npz", r"evil\.npz")
def _(fw):
    np.savez(TMP / "evil.npz", **{"hidden1.W": np.array([object()], dtype=object)})
    return scratch.load(scratch.build("xor"), str(TMP / "evil.npz"))


@case("load an int64 .pt", r"int64|floating")
def _(fw):
    import torch

    torch_fw = get_framework("torch")
    net = torch_fw.build("linreg")
    torch.save({k: (v * 100).long() for k, v in net.native.state_dict().items()}, TMP / "int.pt")
    before = torch_fw.get_weights(net)
    torch_fw.load(net, str(TMP / "int.pt"))
    return torch_fw.get_weights(net), before


def load_beyond_float32(fw):
    big = fw.build("xor", dtype="float64")
    fw.set_weights(big, {**GOOD, "output.b": np.array([1e300])})
    path = str(TMP / f"big{EXT[fw.name]}")
    fw.save(big, path)
    small = fw.build("xor", dtype="float32")
    fw.load(small, path)
    return fw.get_weights(small)["output.b"]


api("load float64 1e300 into a float32 net", r"float32", load_beyond_float32)


# ---------------------------------------------------------------- data: CSV and IDX

for name, data, pattern in [
    ("empty first cell", "1,\n3,4\n", r"empty"), ("1_000", "1_000,2\n3,4\n", r"1_000"),
    ("1_000 after a header", "x,y\n1_000,2\n", r"1_000"), ('"1,000"', 'x,y\n"1,000",2\n', r"1,000"),
    ("nan", "1,2\n3,nan\n", r"NaN"), ("inf", "1,2\ninf,4\n", r"NaN/inf|inf"), ("empty file", "", r"no data"),
    ("header only", "x,y\n", r"no data"), ("binary", bytes(range(256)), r"UTF-8|not"), ("semicolons", "1;2\n3;4\n", r"column"),
    ("ragged", "1,2\n3,4,5\n", r"fields|column"), ("short row", "1,2\n3\n", r"empty|column"), ("1e999", "1e999,2\n", r"range|inf"),
    ("hex", "0x10,2\n", r"0x10|number"), ("mixed first row", "x,1\n2,3\n", r"mixes|number"),
]:
    CASES.append(Case(f"CSV: {name}", lambda _, n=name, d=data: load_csv(tmpfile(f"csv/{abs(hash(n))}.csv", d)), pattern))
for name, data, check in [
    ("gzipped", gzip.compress(b"x,y\n1,2\n3,4\n"), lambda r: r[0].tolist() == [[1], [3]]),
    ("byte-order mark", b"\xef\xbb\xbfx,y\n1,2\n", lambda r: r[1].tolist() == [[2]]),
    ("no header", b"1,2\n3,4\n", lambda r: r[0].shape == (2, 1)),
    ("spaces and CRLF", b" 1 , 2 \r\n3,4\r\n", lambda r: r[1].ravel().tolist() == [2, 4]),
]:
    CASES.append(Case(f"CSV: {name} (valid)", lambda _, n=name, d=data: load_csv(tmpfile(f"csv/v{abs(hash(n))}.csv", d)),
                      None, check))
CASES.append(Case("CSV: missing file", lambda _: load_csv(str(TMP / "none.csv")), r"cannot read|does not exist"))
CASES.append(Case("CSV: a folder", lambda _: load_csv(str(TMP)), r"cannot read|directory"))


def idx(array):
    magic = {3: 0x0803, 1: 0x0801}[array.ndim]
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.astype(np.uint8).tobytes()


def mnist_dir(name, replace):
    folder = TMP / "mnist" / name
    folder.mkdir(parents=True)
    arrays = {"train_images": np.zeros((4, 28, 28)), "train_labels": np.arange(4), "test_images": np.zeros((2, 28, 28)),
              "test_labels": np.arange(2)}
    for role, file in mnist.FILES.items():
        (folder / file).write_bytes(gzip.compress(replace.get(file, idx(arrays[role]))))
    return mnist.load_idx_directory(folder)


for name, file, data, pattern in [
    ("zero images", "train-images-idx3-ubyte.gz", idx(np.zeros((0, 28, 28))), r"no images|zero|empty"),
    ("zero labels", "t10k-labels-idx1-ubyte.gz", idx(np.zeros(0)), r"no labels|do not match"),
    ("27×27 images", "train-images-idx3-ubyte.gz", idx(np.zeros((4, 27, 27))), r"28"),
    ("label 10", "train-labels-idx1-ubyte.gz", idx(np.full(4, 10)), r"0\.\.9"),
    ("truncated", "t10k-images-idx3-ubyte.gz", idx(np.zeros((2, 28, 28)))[:-7], r"bytes"),
    ("a CSV instead", "train-labels-idx1-ubyte.gz", b"1,2\n", r"magic"),
]:
    CASES.append(Case(f"IDX: {name}", lambda _, n=name, f=file, d=data: mnist_dir(n, {f: d}), pattern))
CASES.append(Case("IDX: missing folder", lambda _: mnist.load_idx_directory(TMP / "nowhere"), r"does not exist"))

# ---------------------------------------------------------------- the command line

tmpfile("points.csv.gz", gzip.compress(b"x,y\n" + b"".join(f"{i},{2 * i + 1}\n".encode() for i in range(50))))
tmpfile("keep.txt", "keep me")
tmpfile("mine/notes.txt", "mine")
(TMP / "save").mkdir()
for name, argv, pattern in [
    ("train --epochs 0", ["train", "xor", "--epochs", "0"], r"epochs"),
    ("train --epochs -1", ["train", "xor", "--epochs", "-1"], r"epochs"),
    ("train --lr 0", ["train", "xor", "--lr", "0"], r"lr"),
    ("train --lr nan", ["train", "xor", "--lr", "nan"], r"lr"),
    ("train --batch-size -1", ["train", "xor", "--batch-size", "-1"], r"'batch_size'|batch"),
    ("train --seed -1", ["train", "xor", "--seed", "-1"], r"seed"),
    ("train --set hidden=", ["train", "xor", "--set", "hidden="], r"--set|hidden"),
    ("train --set hidden=0", ["train", "xor", "--set", "hidden=0"], r"hidden"),
    ("train --set activation=bogus", ["train", "xor", "--set", "activation=bogus"], r"activation"),
    ("train --set =3", ["train", "xor", "--set", "=3"], r"--set|option"),
    ("train --set hidden", ["train", "xor", "--set", "hidden"], r"KEY=VALUE"),
    ("train --save .weights.h5 for all", ["train", "xor", "--save", "{tmp}/save/x_{framework}.weights.h5"], r"\.npz|must end"),
    ("train --save without {framework}", ["train", "xor", "--save", "{tmp}/save/x.npz"], r"\{framework\}"),
    ("train --save into a missing folder", ["train", "xor", "--framework", "torch", "--save", "{tmp}/no/x.pt"], r"does not exist"),
    ("train --save onto a folder", ["train", "xor", "--framework", "torch", "--save", "{tmp}/dir.pt"], r"folder"),
    ("train --data on xor", ["train", "xor", "--data", "{tmp}/keep.txt"], r"takes no --data"),
    ("train unknown model", ["train", "resnet50"], r"invalid choice"),
    ("train --framework jax", ["train", "xor", "--framework", "jax"], r"invalid choice"),
    ("train linreg --lr 1e3", ["train", "linreg", "--lr", "1e3"], r"diverged.*step.*last finite"),
    ("convert unknown extension", ["convert", "{tmp}/a.bin", "{tmp}/b.pt", "--model", "xor"], r"cannot tell the format"),
    ("convert a missing source", ["convert", "{tmp}/none.npz", "{tmp}/b.pt", "--model", "xor"], r"does not exist"),
    ("convert into a missing folder", ["convert", "{tmp}/ckpt/xor_scratch.npz", "{tmp}/no/b.pt"], r"does not exist"),
    ("convert an int64 .pt", ["convert", "{tmp}/int.pt", "{tmp}/int.npz", "--model", "linreg"], r"int64|floating"),
    ("report --out an existing file", ["report", "--quick", "--models", "xor", "--out", "{tmp}/keep.txt"], r"is a file"),
    ("report --out a folder of other files", ["report", "--quick", "--models", "xor", "--out", "{tmp}/mine"], r"not a Triptych"),
    ("report --out the current folder", ["report", "--quick", "--models", "xor", "--out", "."], r"current folder"),
    ("bench --steps 0", ["bench", "linreg", "--steps", "0"], r"steps"),
    ("parity resnet50", ["parity", "resnet50"], r"unknown model"),
    ("summary --set hiden=3", ["summary", "xor", "--set", "hiden=3"], r"no option 'hiden'"),
]:
    cli(name, argv, pattern, keep=[TMP / "keep.txt", TMP / "mine" / "notes.txt"])
if READ_ONLY:
    cli("train --save into a read-only folder", ["train", "xor", "--framework", "torch", "--save", f"{READ_ONLY}/x.pt"],
        r"cannot write")
    cli("convert into a read-only folder", ["convert", "{tmp}/ckpt/xor_scratch.npz", f"{READ_ONLY}/b.pt"], r"cannot write")
    cli("report --out a read-only place", ["report", "--quick", "--models", "xor", "--out", f"{READ_ONLY}/r"], r"cannot write")
cli("summary --set hidden=13 (valid)", ["summary", "xor", "--set", "hidden=13"], None,
    check=lambda r: r[0] == 0 and "| `hidden1.W` | (2, 13) |" in r[1])
cli("train house_mlp --epochs 5 (valid)", ["train", "house_mlp", "--epochs", "5"], None,
    check=lambda r: r[0] == 0 and r[1].count("[keras] 60 steps") == 1)
cli("train house_mlp --save --optimizer --batch-size --dtype (valid)",
    ["train", "house_mlp", "--epochs", "2", "--optimizer", "adam", "--batch-size", "0", "--dtype", "float64",
     "--save", "{tmp}/save/h_{framework}{ext}"], None,
    check=lambda r: r[0] == 0 and r[1].count(" 2 steps in") == 3 and sorted(os.listdir(TMP / "save")) == [
        "h_keras.weights.h5", "h_scratch.npz", "h_torch.pt"]
    and np.load(TMP / "save" / "h_scratch.npz")["output.W"].dtype == np.float64)
cli("train linreg on a gzipped CSV (valid)", ["train", "linreg", "--data", "{tmp}/points.csv.gz", "--epochs", "30",
                                              "--framework", "scratch", "--lr", "0.001"], None,
    check=lambda r: r[0] == 0 and "50 rows × 1 features" in r[1])

# ---------------------------------------------------------------- nothing lost (child processes)

CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1"}


TF_NOISE = re.compile(r"^(WARNING: All log messages before absl|I0000 .*oneDNN|W0000 )")  # TensorFlow's start-up log


def child(code: str, *args, timeout=600, env=None):
    """Run ``code`` in a fresh Python; its stderr without TensorFlow's start-up lines (not triptych's output)."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                         text=True, timeout=timeout, cwd=ROOT, env={**CHILD_ENV, **(env or {})})
    out.stderr = "".join(line for line in out.stderr.splitlines(True) if not TF_NOISE.match(line))
    return out


(TMP / "full").mkdir()
FULL_SOURCE = TMP / "full" / "source.npz"
scratch.save(scratch.build("mnist_cnn", filters=(4, 8)), str(FULL_SOURCE))
for name in FRAMEWORKS:
    target = TMP / "full" / f"w_{name}{EXT[name]}"
    get_framework(name).save(get_framework(name).build("mnist_cnn", filters=(4, 8)), str(target))

    @case(f"convert onto an existing {EXT[name]} with a full disk", r"too large|could not write|No space|error",
          keep=[target])
    def _(fw, target=target):
        out = child("""
            import resource, signal, sys
            from triptych.cli import main
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (2048, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
            sys.exit(main(["convert", sys.argv[1], sys.argv[2]]))
        """, FULL_SOURCE, target)
        if out.returncode == 2 and out.stderr.count("\n") == 1:
            raise ValueError(out.stderr)
        raise RuntimeError(f"exit {out.returncode}: {out.stderr[-300:]}")


REPORT = TMP / "report"


@case("a report over a previous one: stale files go", None, check=lambda r: r)
def _(fw):
    REPORT.mkdir(exist_ok=True)
    (REPORT / "index.html").write_text("old")
    (REPORT / "results.json").write_text("{}")
    (REPORT / "lstm_loss.png").write_bytes(b"stale")
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["report", "--quick", "--models", "linreg", "--studies", "--out", str(REPORT)])
    return code == 0 and not (REPORT / "lstm_loss.png").exists() and (REPORT / "linreg_loss.png").exists()


@case("two reports into one folder at once", r"another triptych run")
def _(fw):
    first = subprocess.Popen([sys.executable, "-m", "triptych.cli", "report", "--quick", "--models", "linreg", "--studies",
                              "--out", str(REPORT)], cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    time.sleep(8)  # the first holds the folder
    second = child("import sys; from triptych.cli import main; sys.exit(main(sys.argv[1:]))",
                   "report", "--quick", "--models", "xor", "--studies", "--out", REPORT)
    first.communicate(timeout=600)
    if first.returncode != 0:
        raise RuntimeError(f"the first report failed ({first.returncode})")
    if second.returncode == 2 and second.stderr.count("\n") == 1:
        raise ValueError(second.stderr)
    if second.returncode == 0:
        return "both runs wrote the same folder"
    raise RuntimeError(f"second exit {second.returncode}: {second.stderr[-300:]}")


@case("Ctrl-C during a report", r"interrupted", keep=[REPORT / "index.html", REPORT / "results.csv"])
def _(fw):
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from triptych.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", code, "report", "--quick", "--models", "linreg", "--studies",
                             "--out", str(REPORT)], cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if "training" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    err = "".join(line for line in err.splitlines(True) if not TF_NOISE.match(line))
    leftovers = [p.name for p in REPORT.parent.iterdir() if p.name.startswith(".report")]
    if proc.returncode == 130 and err.count("\n") == 1 and not leftovers:
        raise ValueError(err)
    if proc.returncode == 130:
        return f"exit 130 but {err.count(chr(10))} lines, leftovers {leftovers}"
    raise RuntimeError(f"exit {proc.returncode}, leftovers {leftovers}: {err[-300:]}")


(TMP / "save2").mkdir()
SAVED = [TMP / "save2" / f"h_{name}{EXT[name]}" for name in FRAMEWORKS]
for name, path in zip(FRAMEWORKS, SAVED):
    get_framework(name).save(get_framework(name).build("house_mlp"), str(path))


@case("train --save, the last framework's write fails", r"No space|error", keep=SAVED)
def _(fw):
    out = child("""
        import sys
        from triptych.frameworks import get_framework
        from triptych.cli import main
        def broken(self, net, path):
            open(path, "wb").write(b"partial")
            raise OSError(28, "No space left on device")
        type(get_framework("keras"))._save = broken
        sys.exit(main(sys.argv[1:]))
    """, "train", "house_mlp", "--epochs", "1", "--save", TMP / "save2" / "h_{framework}{ext}")
    if out.returncode == 2 and out.stderr.count("\n") == 1:
        raise ValueError(out.stderr)
    raise RuntimeError(f"exit {out.returncode}: {out.stderr[-300:]}")


# ---------------------------------------------------------------- round three: plugins and register_model

import dataclasses  # noqa: E402
import types  # noqa: E402

from triptych import MODELS, STUDIES, StudySpec, load_plugin, register_model, register_study  # noqa: E402

EXAMPLE = ROOT / "examples" / "own_model"
load_plugin(str(EXAMPLE))  # logreg: the user's model the variants below start from
(TMP / "r3").mkdir()


def child_cli(*argv, env=None) -> tuple:
    """(exit status, stdout, stderr) of ``triptych ARGV`` in a fresh Python (plugins, devices and threads are per process)."""
    out = child("import sys; from triptych.cli import main; sys.exit(main(sys.argv[1:]))", *argv, env=env)
    return out.returncode, out.stdout, out.stderr


@contextlib.contextmanager
def withdrawn():
    """Models and studies a case registers are withdrawn after it, so later cases see only the others."""
    models, studies = set(MODELS), set(STUDIES)
    try:
        yield
    finally:
        for name in set(MODELS) - models:
            MODELS.remove(name)
        for name in set(STUDIES) - studies:
            STUDIES.remove(name)


def variant(name, **changes):
    """The example logreg under another name, with ``changes`` to its declaration."""
    return dataclasses.replace(MODELS["logreg"], name=name, **changes)


def wide_layout(config):
    return {"logit.W": ((config["in_features"], 2), "weights"), "logit.b": ((1,), "intercept")}


@case("plugin: layout says logit.W (30, 2), the build makes (30, 1); train --save", r"logit\.W.*\(30, [12]\).*\(30, [12]\)",
      cli=True)
def _(fw):
    with withdrawn():
        register_model(variant("probe_wide", layout=wide_layout))
        return run_cli(["train", "probe_wide", "--framework", "scratch", "--epochs", "1", "--save", "{tmp}/r3/wide.npz"])


@case("plugin: a rule for 'unitz', not an architecture key", r"unitz")
def _(fw):
    with withdrawn():
        return register_model(variant("probe_rules", rules={"unitz": lambda *a: None}))


def hookless(framework, fw):
    """A torch module without to_canonical(), or a Keras module that does not exist, built and read back."""
    no_hook = types.ModuleType("probe_torch_no_hook")
    no_hook.build = no_hook.from_canonical = no_hook.loss = no_hook.train = lambda *a, **k: None
    with withdrawn():
        register_model(variant("probe_hookless", modules={}), scratch=MODELS["logreg"].modules["scratch"],
                       torch=no_hook, keras="no_such_package_probe.keras_logreg", replace=True)
        framework = get_framework(framework)
        return framework.get_weights(framework.build("probe_hookless"))


CASES.append(Case("plugin: a torch module without to_canonical", lambda fw: hookless("torch", fw), r"to_canonical"))
CASES.append(Case("plugin: a Keras module that does not exist", lambda fw: hookless("keras", fw),
                  r"no_such_package_probe.*(does not exist|not found|no module)"))
CASES.append(Case("register_model(name=123)", lambda _: register_model(variant(123)), r"name.*(str|123)"))


@case("StudySpec(run='go'), then study", r"run.*callable", cli=True)
def _(fw):
    with withdrawn():
        register_study(StudySpec(name="probe_go", description="a string for run", run="go"))
        return run_cli(["study", "probe_go", "--framework", "scratch"])


@case("a study returning None, then study", r"NoneType|StudyResult", cli=True)
def _(fw):
    with withdrawn():
        register_study(StudySpec(name="probe_none", description="returns nothing", run=lambda *a, **k: None))
        return run_cli(["study", "probe_none", "--framework", "scratch"])


tmpfile("r3/quits.py", "import sys\nsys.exit(0)\n")
cli("a plugin calling sys.exit(0)", ["--plugin", "{tmp}/r3/quits.py", "summary", "xor", "--framework", "scratch"],
    r"plugin.*sys\.exit")
CASES.append(Case("train logreg --replicas 2 --plugin examples/own_model (valid)", lambda _: child_cli(
    "--plugin", EXAMPLE, "train", "logreg", "--framework", "torch", "--replicas", "2", "--epochs", "1", "--batch-size", "0"),
    None, lambda r: r[0] == 0 and "2 replicas" in r[1], cli=True))

# ---------------------------------------------------------------- round three: convert and checkpoints

SOFTMAX = TMP / "r3" / "softmax_reg.npz"
scratch.save(scratch.build("softmax_reg"), str(SOFTMAX))
XOR = TMP / "r3" / "xor.npz"
scratch.save(scratch.build("xor"), str(XOR))
api("load a softmax_reg checkpoint into mnist_mlp", r"softmax_reg",
    lambda fw: fw.load(fw.build("mnist_mlp"), checkpoint(fw, "softmax_reg")))
cli("convert a softmax_reg checkpoint --model mnist_mlp", ["convert", SOFTMAX, "{tmp}/r3/sm.pt", "--model", "mnist_mlp"],
    r"softmax_reg.*mnist_mlp")
cli("convert --set unitz=8", ["convert", XOR, "{tmp}/r3/unitz.pt", "--set", "unitz=8"], r"unitz")


def h5_dtypes(path) -> set:
    import h5py

    kinds = set()
    with h5py.File(path) as f:
        f.visititems(lambda n, item: kinds.add(str(item.dtype)) if isinstance(item, h5py.Dataset) else None)
    return kinds


@case("convert a float32 .pt to .weights.h5 (valid: float32 kept and said)", cli=True,
      check=lambda r: r[0] == 0 and "float32" in r[1] and h5_dtypes(TMP / "r3" / "f32.weights.h5") == {"float32"})
def _(fw):
    torch_fw = get_framework("torch")
    torch_fw.save(torch_fw.build("xor", dtype="float32"), str(TMP / "r3" / "f32.pt"))
    return run_cli(["convert", "{tmp}/r3/f32.pt", "{tmp}/r3/f32.weights.h5", "--model", "xor"])


def edited_h5(edit):
    """A Keras xor checkpoint with ``edit(file, dataset names)`` applied, loaded into a fresh xor."""
    import h5py

    keras = get_framework("keras")
    path = str(TMP / "r3" / "edited.weights.h5")
    keras.save(keras.build("xor"), path)
    with h5py.File(path, "r+") as f:
        names = []
        f.visititems(lambda n, item: names.append(n) if isinstance(item, h5py.Dataset) else None)
        edit(f, names)
    net = keras.build("xor")
    keras.load(net, path)
    return keras.get_weights(net)


def extra_variable(f, names):
    f[f"{names[-1].rpartition('/')[0]}/9"] = np.zeros(3)


def integer_bias(f, names):
    bias = next(n for n in names if f[n].ndim == 1)
    values = np.rint(f[bias][()]).astype(np.int64)
    del f[bias]
    f[bias] = values


CASES.append(Case("load a .weights.h5 with an extra variable", lambda _: edited_h5(extra_variable), r"extra|unexpected"))
CASES.append(Case("load a .weights.h5 with an integer bias", lambda _: edited_h5(integer_bias), r"int64|floating"))


@case("two train --save same.npz at once", r"another triptych run|being written")
def _(fw):
    """The first trains for a while; the second starts once the first is training and saves to the same file."""
    target = TMP / "r3" / "same.npz"
    argv = ["-m", "triptych.cli", "train", "house_mlp", "--framework", "scratch", "--save", str(target), "--epochs"]
    first = subprocess.Popen([sys.executable, *argv, "8000"], cwd=ROOT, env={**CHILD_ENV, "PYTHONUNBUFFERED": "1"},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in first.stdout:
        if "training epoch" in line:
            break
    second = child_cli(*argv[2:], "1")
    out, _ = first.communicate(timeout=600)
    if first.returncode != 0:
        raise RuntimeError(f"the first run failed ({first.returncode})")
    if second[0] == 2 and second[2].count("\n") == 1:
        raise ValueError(second[2])
    if second[0] == 0:
        return "both runs exited 0 and said saved"
    raise RuntimeError(f"second exit {second[0]}: {second[2][-300:]}")


# ---------------------------------------------------------------- round three: options that cannot be honoured

(TMP / "loop").symlink_to(TMP / "loop")
for name, argv, pattern in [
    ("train --keras-backend twice", ["train", "xor", "--framework", "scratch", "--epochs", "1", "--keras-backend", "jax",
                                     "--keras-backend", "torch"], r"--keras-backend.*twice"),
    ("parity --frameworks twice", ["parity", "xor", "--frameworks", "scratch", "torch", "--frameworks", "torch"],
     r"--frameworks.*twice"),
    ("parity xor xor", ["parity", "xor", "xor", "--frameworks", "scratch", "torch"], r"xor.*twice"),
    ("report --models xor xor", ["report", "--quick", "--models", "xor", "xor", "--studies", "--out", "{tmp}/r3/dup"],
     r"xor.*twice"),
    ("report --studies descent descent", ["report", "--quick", "--models", "xor", "--studies", "descent", "descent",
                                          "--out", "{tmp}/r3/dup"], r"descent.*twice"),
    ("report --data bogus, no model takes data", ["report", "--quick", "--models", "xor", "--studies", "--data", "bogus",
                                                  "--out", "{tmp}/r3/bogus"], r"--data.*bogus|bogus.*--data"),
    ("report --out inside a symlink loop", ["report", "--quick", "--models", "xor", "--studies", "--out",
                                            "{tmp}/loop/report"], r"symbolic link loop|loop"),
]:
    cli(name, argv, pattern)
CASES.append(Case("TRIPTYCH_TORCH_DEVICE=cpu:5", lambda _: child_cli(
    "train", "xor", "--framework", "torch", "--epochs", "1", env={"TRIPTYCH_TORCH_DEVICE": "cpu:5"}), r"cpu:5", cli=True))
CASES.append(Case("bench --threads 100000", lambda _: child_cli(
    "bench", "xor", "--framework", "scratch", "--threads", "100000", "--steps", "1", "--rounds", "1"), r"100000|CPU",
    cli=True))


# ---------------------------------------------------------------- running


def classify(c: Case, fw) -> tuple[str, str]:
    """(outcome, detail) of one case in one framework (or none)."""
    try:
        result = c.run(fw)
    except ValueError as exc:  # a clear error, if it says what the case expects
        message = str(exc).strip()
        if c.expect is None:
            return "silent wrong", f"refused a valid input: {message}"
        return ("clear error" if re.search(c.expect, message) and "\n" not in message else "unclear error"), message
    except Exception as exc:  # noqa: BLE001
        return "raw traceback", "".join(traceback.format_exception_only(type(exc), exc)).strip()[-400:]
    if c.cli:
        code, out, err = result
        if c.expect is None:
            return ("valid accepted" if c.check(result) else "silent wrong"), f"exit {code}"
        if code == 0:
            return "silent wrong", "exit 0"
        lines = err.strip().splitlines()
        if code == 2 and err.startswith("triptych: error:") and len(lines) == 1:
            return ("clear error" if re.search(c.expect, err) else "unclear error"), err.strip()
        if code == 2 and "usage:" in err and re.search(c.expect, err):  # argparse: usage line + error line
            return "clear error", lines[-1]
        return "raw traceback", f"exit {code}: {err.strip()[-400:]}"
    if c.expect is not None:
        return "silent wrong", f"accepted: {str(result)[:200]}"
    return ("valid accepted" if c.check is None or c.check(result) else "silent wrong"), str(result)[:120]


def run_case(c: Case) -> tuple[str, str, bool]:
    before = {p: Path(p).read_bytes() for p in c.keep if Path(p).exists()}
    if c.per_framework:
        results = [classify(c, get_framework(name)) for name in FRAMEWORKS]
        order = ["data lost", "silent wrong", "raw traceback", "unclear error", "clear error", "valid accepted"]
        worst = min(results, key=lambda r: order.index(r[0]))
        inconsistent = len({r[1] for r in results}) > 1 and worst[0] == "clear error"
        outcome, detail = worst
    else:
        (outcome, detail), inconsistent = classify(c, None), False
    lost = [str(p) for p, data in before.items() if not Path(p).exists() or Path(p).read_bytes() != data]
    if lost:
        outcome, detail = "data lost", f"changed: {lost}; {detail}"
    return outcome, detail, inconsistent


def run(only: str | None = None, verbose: bool = False) -> int:
    counts, open_cases, inconsistent = {}, [], []
    cases = [c for c in CASES if not only or only in c.name]
    start = time.perf_counter()
    for i, c in enumerate(cases, 1):
        outcome, detail, mixed = run_case(c)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome not in ("clear error", "valid accepted"):
            open_cases.append((c.name, outcome, detail))
        if mixed:
            inconsistent.append(c.name)
        if verbose:
            print(f"[{i}/{len(cases)}] {outcome:<14} {c.name}: {detail[:160]}", flush=True)
    for name, outcome, detail in open_cases:
        print(f"OPEN {outcome}: {name}: {' '.join(detail.split())[:300]}")
    print(f"\n{len(cases)} cases in {time.perf_counter() - start:.0f} s")
    for outcome in ("clear error", "valid accepted", "unclear error", "raw traceback", "silent wrong", "data lost"):
        print(f"  {outcome:<15} {counts.get(outcome, 0)}")
    print(f"  (API cases whose three frameworks' messages differ: {len(inconsistent)}: {'; '.join(inconsistent)})")
    return 0 if not open_cases else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    try:
        sys.exit(run(args.only, args.verbose))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
