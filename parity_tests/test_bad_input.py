"""Bad input, table by table: every case gets one clear ValueError naming what was expected — the same
message in all three frameworks — and changes nothing; through the CLI, one line and exit status 2.

To add a case, add a row to a table:

    BUILD    (model, build keyword arguments, message)              run in every framework
    TRAIN    (train keyword arguments on XOR, message)              run in every framework
    INPUTS   (model, overrides, call, X, y, message)                run in every framework
    WEIGHTS  (id, weights from good ones, dtype, message)           run in every framework
    CSV      (file bytes, message)                                  triptych.data.load_csv
    IDX      (id, arrays or bytes for one file, message)            triptych.mnist.load_idx_directory
    CLI      (argv, message, before any output?)                    triptych.cli.main; {tmp} is a folder

and, for what must be accepted, VALID_BUILD, VALID_TRAIN and VALID_CSV.
"""
from __future__ import annotations

import gzip
import re

import numpy as np
import pytest

from triptych.cli import main
from triptych.data import load_csv, xor_data
from triptych.frameworks import FRAMEWORKS, get_framework
from triptych import mnist
from parity_tests.helpers import idx_bytes

nan, inf = float("nan"), float("inf")


def _errors(call) -> list[str]:
    """The ValueError message ``call(fw)`` raises in each framework (it must raise in every one)."""
    messages = []
    for name in FRAMEWORKS:
        with pytest.raises(ValueError) as info:
            call(get_framework(name))
        messages.append(str(info.value))
    return messages


def _assert_one_message(messages: list[str], pattern: str) -> None:
    assert len(set(messages)) == 1, f"the frameworks say different things: {messages}"
    assert re.search(pattern, messages[0]), messages[0]


# ---------------------------------------------------------------- build: spec overrides, seed, dtype

BUILD = [
    ("xor", dict(hidden=(0,)), r"model 'xor': option 'hidden' must be a tuple of 1 or more integers ≥ 1, got \(0,\)"),
    ("house_mlp", dict(hidden=(13, -1)), r"option 'hidden' must be a tuple of 0 or more integers ≥ 1"),
    ("xor", dict(hidden=2.5), r"option 'hidden' must be a tuple .*, got 2\.5"),
    ("xor", dict(hidden="10"), r"option 'hidden' must be a tuple .*, got '10'"),
    ("xor", dict(hidden=()), r"option 'hidden' must be a tuple of 1 or more integers"),
    ("lstm", dict(units=0), r"model 'lstm': option 'units' must be an integer ≥ 1, got 0"),
    ("lstm", dict(num_classes=1), r"option 'num_classes' must be an integer ≥ 2, got 1"),
    ("linreg", dict(in_features=0), r"model 'linreg': option 'in_features' must be an integer ≥ 1, got 0"),
    ("linreg", dict(in_features=2.0), r"option 'in_features' must be an integer ≥ 1, got 2\.0"),
    ("linreg", dict(in_features=True), r"option 'in_features' must be an integer ≥ 1, got True"),
    ("mnist_cnn", dict(filters=(0, 0)), r"option 'filters' must be a tuple of 2 integers ≥ 1, got \(0, 0\)"),
    ("mnist_cnn", dict(filters=(4, 8, 16)), r"option 'filters' must be a tuple of 2 integers ≥ 1"),
    ("mnist_cnn", dict(pool_size=0), r"option 'pool_size' must be an integer ≥ 1, got 0"),
    ("mnist_cnn", dict(kernel_size=100), r"kernel_size 100 and pool_size 2 leave no pixels of a \(28, 28\) image"),
    ("mnist_cnn", dict(image_size=(5, 5)), r"leave no pixels of a \(5, 5\) image"),
    ("mnist_cnn", dict(image_size=28), r"option 'image_size' must be \(height, width\)"),
    ("mnist_cnn", dict(dropout=1.0), r"option 'dropout' must be a number in \[0, 1\), got 1\.0"),
    ("mnist_cnn", dict(dropout=nan), r"option 'dropout' must be a number in \[0, 1\), got nan"),
    ("house_mlp", dict(dropout=-0.1), r"option 'dropout' must be a number in \[0, 1\)"),
    ("xor", dict(activation="bogus"), r"option 'activation' must be one of 'linear', 'sigmoid', 'tanh', 'relu', got 'bogus'"),
    ("xor", dict(init="he_normal"), r"option 'init' must be one of 'default', got 'he_normal'"),
    ("linreg", dict(init="glorot_normal"), r"option 'init' must be one of 'default', 'zeros'"),
    ("house_mlp", dict(init=None), r"option 'init' must be one of"),
    ("xor", dict(widht=3), r"model 'xor' has no option 'widht'"),
    ("vgg16", {}, r"unknown model 'vgg16'.*xor, linreg"),
    ("xor", dict(seed=-1), r"model 'xor': option 'seed' must be an integer in \[0, 4294967295\], got -1"),
    ("xor", dict(seed=2 ** 32), r"option 'seed' must be an integer in \[0, 4294967295\]"),
    ("xor", dict(seed=1.5), r"option 'seed' must be an integer .*, got 1\.5"),
    ("xor", dict(seed="0"), r"option 'seed' must be an integer .*, got '0'"),
    ("xor", dict(dtype="float16"), r"dtype must be 'float32' or 'float64', got 'float16'"),
    ("xor", dict(dtype=None), r"dtype must be 'float32' or 'float64', got None"),
]


@pytest.mark.parametrize("model, kwargs, message", BUILD, ids=[f"{m}-{'-'.join(k) or 'none'}" for m, k, _ in BUILD])
def test_build_refuses(model, kwargs, message):
    _assert_one_message(_errors(lambda fw: fw.build(model, **kwargs)), message)


VALID_BUILD = [  # (model, kwargs, what the config or dtype must then be)
    ("xor", dict(hidden=13), dict(hidden=(13,))),  # the README's example, --set hidden=13
    ("house_mlp", dict(hidden=[5, 4]), dict(hidden=(5, 4))),
    ("house_mlp", dict(hidden=()), dict(hidden=())),  # no hidden layer: a linear model
    ("linreg", dict(in_features=np.int64(3)), dict(in_features=3)),
    ("xor", dict(seed=np.int64(7)), {}),
    ("xor", dict(dtype=np.float32), dict(dtype="float32")),
    ("mnist_cnn", dict(filters=(2, 3), kernel_size=5), dict(kernel_size=5)),
]


@pytest.mark.parametrize("model, kwargs, expected", VALID_BUILD, ids=[m + "-" + "-".join(k) for m, k, _ in VALID_BUILD])
def test_build_accepts(fw, model, kwargs, expected):
    net = fw.build(model, **kwargs)
    for key, value in expected.items():
        got = net.dtype if key == "dtype" else net.config[key]
        assert got == value and type(got) is type(value), (key, got)


# ---------------------------------------------------------------- train: training and optimizer options

TRAIN = [
    (dict(epochs=0), r"model 'xor': option 'epochs' must be an integer ≥ 1, got 0"),
    (dict(epochs=1.5), r"option 'epochs' must be an integer ≥ 1, got 1\.5"),
    (dict(epochs=True), r"option 'epochs' must be an integer ≥ 1, got True"),
    (dict(batch_size=0), r"option 'batch_size' must be an integer ≥ 1, got 0; or None \(full batch\)"),
    (dict(batch_size=2.0), r"option 'batch_size' must be an integer ≥ 1, got 2\.0"),
    (dict(lr=0.0), r"option 'lr' must be a finite number > 0, got 0\.0"),
    (dict(lr=-1.0), r"option 'lr' must be a finite number > 0, got -1\.0"),
    (dict(lr=inf), r"option 'lr' must be a finite number > 0, got inf"),
    (dict(lr=nan), r"option 'lr' must be a finite number > 0, got nan"),
    (dict(lr="0.1"), r"option 'lr' must be a finite number > 0, got '0\.1'"),
    (dict(seed=-1), r"option 'seed' must be an integer in \[0, 4294967295\], got -1"),
    (dict(seed=0.5), r"option 'seed' must be an integer in \[0, 4294967295\], got 0\.5"),
    (dict(optimizer="nadam"), r"unknown optimizer 'nadam'; expected one of"),
    (dict(momentum=0.5, rho=0.9), r"optimizer 'sgd' takes no option 'rho'"),
    (dict(optimizer="sgd", beta_1=0.5), r"optimizer 'sgd' takes no option 'beta_1'"),
    (dict(optimizer="adam", momentum=0.5), r"optimizer 'adam' takes no option 'momentum'"),
    (dict(momentum=-0.1), r"option 'momentum' must be a number in \[0, 1\), got -0\.1"),
    (dict(momentum=1.0), r"option 'momentum' must be a number in \[0, 1\), got 1\.0"),
    (dict(momentum=0.9, nesterov="yes"), r"option 'nesterov' must be True or False, got 'yes'"),
    (dict(nesterov=True), r"option 'nesterov' needs a momentum > 0"),
    (dict(weight_decay=-1e-4), r"option 'weight_decay' must be a finite number ≥ 0, got -0\.0001"),
    (dict(optimizer="adam", weight_decay=nan), r"option 'weight_decay' must be a finite number ≥ 0, got nan"),
    (dict(optimizer="adam", epsilon=-1e-8), r"option 'epsilon' must be a finite number > 0, got -1e-08"),
    (dict(optimizer="adam", epsilon=0.0), r"option 'epsilon' must be a finite number > 0, got 0\.0"),
    (dict(optimizer="adam", beta_1=1.0), r"option 'beta_1' must be a number in \[0, 1\), got 1\.0"),
    (dict(optimizer="adam", beta_2=-0.5), r"option 'beta_2' must be a number in \[0, 1\), got -0\.5"),
    (dict(lr_decay="cosine"), r"option 'lr_decay' must be one of 'none', 'linear', 'exponential', got 'cosine'"),
    (dict(lr_decay="linear", decay_rate=-0.1), r"option 'decay_rate' must be a finite number ≥ 0, got -0\.1"),
    (dict(decay_rate=0.5), r"option 'decay_rate' 0\.5 needs lr_decay 'linear' or 'exponential'"),
    (dict(lr_decay="exponential"), r"option 'decay_rate' must be > 0 with lr_decay 'exponential'"),
    (dict(eval_every=0), r"option 'eval_every' must be an integer ≥ 1, got 0; or None"),
    (dict(keep_best="yes"), r"option 'keep_best' must be True or False, got 'yes'"),
    (dict(X_val=np.zeros((2, 2))), r"model 'xor': give both X_val and y_val, or neither"),
    (dict(progress=3), r"option 'progress' must be a function of one dict, got 3"),
]


@pytest.mark.parametrize("kwargs, message", TRAIN, ids=["-".join(f"{k}={v!r}" for k, v in kw.items()) for kw, _ in TRAIN])
def test_train_refuses(kwargs, message):
    X, y = xor_data()

    def call(fw):
        net = fw.build("xor")
        before = fw.get_weights(net)
        try:
            fw.train(net, X, y, **{"epochs": 1, **kwargs})
        finally:
            assert all(np.array_equal(before[k], v) for k, v in fw.get_weights(net).items()), "weights changed"
    _assert_one_message(_errors(call), message)


VALID_TRAIN = [  # accepted, with NumPy scalars where Python ones are expected
    dict(epochs=np.int64(2), batch_size=np.int32(2), lr=np.float32(0.1), seed=np.uint8(3)),
    dict(optimizer="sgd", momentum=np.float64(0.5), nesterov=np.bool_(True), weight_decay=0),
    dict(optimizer="adam", beta_1=0, beta_2=0.5, epsilon=1e-30),
    dict(lr_decay="exponential", decay_rate=0.5, epochs=3),
    dict(batch_size=None, keep_best=True, eval_every=1),
]


@pytest.mark.parametrize("kwargs", VALID_TRAIN, ids=lambda kw: "-".join(kw))
def test_train_accepts(kwargs):
    X, y = xor_data()
    losses = []
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("xor")
        fw.set_weights(net, get_framework("scratch").get_weights(get_framework("scratch").build("xor")))
        losses.append(fw.train(net, X, y, **{"epochs": 1, **kwargs})["loss"])
    assert np.allclose(losses[0], losses[1], atol=1e-6) and np.allclose(losses[0], losses[2], atol=1e-6)


# ---------------------------------------------------------------- inputs of predict, loss_and_grads, train

X4, Y4 = xor_data()
IMAGES, LABELS = np.zeros((2, 28, 28)), np.array([3, 7])
SMALL = {"mnist_cnn": dict(filters=(2, 3)), "lstm": dict(units=3)}

INPUTS = [
    ("linreg", {}, "predict", np.zeros((5, 3)), None, r"linreg: input X has shape \(5, 3\), expected \(N, 2\) with N ≥ 1"),
    ("linreg", {}, "predict", np.zeros(5), None, r"input X has shape \(5,\), expected \(N, 2\)"),
    ("linreg", {}, "predict", np.zeros((0, 2)), None, r"input X has shape \(0, 2\), expected \(N, 2\) with N ≥ 1"),
    ("linreg", {}, "predict", np.array([[1 + 2j, 0]]), None, r"input X must be an array of real numbers, .*complex128"),
    ("linreg", {}, "predict", np.array([["1", "2"]]), None, r"input X must be an array of real numbers, .*<U1"),
    ("linreg", {}, "predict", [[1.0, 2.0], [3.0]], None, r"input X must be an array of real numbers"),
    ("linreg", {}, "predict", np.array([[1e300, 0.0]]), None, r"input X holds values up to 1e\+300, beyond float32's range"),
    ("xor", {}, "train", np.where(X4 == 1, nan, X4), Y4, r"xor: input X contains 4 NaN/inf value\(s\)"),
    ("xor", {}, "loss", X4, np.array([[0], [1], [inf], [0]]), r"xor: targets y contain NaN/inf"),
    ("xor", {}, "loss", X4, np.zeros((4, 2)), r"targets y have shape \(4, 2\), expected \(4, 1\) or \(4,\)"),
    ("xor", {}, "train", X4, Y4[:3], r"targets y have shape \(3, 1\)"),
    ("xor", {}, "loss", X4, np.array([0, 1, 2, 0]), r"binary targets y must lie in \[0, 1\], got 0\.0\.\.2\.0"),
    ("xor", {}, "loss", X4, np.array([0, 1, -0.5, 0]), r"binary targets y must lie in \[0, 1\], got -0\.5\.\.1\.0"),
    ("xor", {}, "loss", X4, np.array(["0", "1", "1", "0"]), r"targets y must be an array of real numbers"),
    ("mnist_cnn", SMALL["mnist_cnn"], "train", IMAGES[:, 1:], LABELS, r"mnist_cnn: input X has shape \(2, 27, 28\), expected \(N, 28, 28\)"),
    ("mnist_cnn", SMALL["mnist_cnn"], "predict", IMAGES.reshape(2, -1), None, r"mnist_cnn: input X has shape \(2, 784\)"),
    ("mnist_cnn", SMALL["mnist_cnn"], "train", IMAGES, np.array([3, 10]), r"labels y must lie in 0\.\.9, got values in 3\.\.10"),
    ("mnist_cnn", SMALL["mnist_cnn"], "loss", IMAGES, np.array([0.5, 1.0]), r"labels y must be whole numbers 0\.\.9"),
    ("mnist_cnn", SMALL["mnist_cnn"], "loss", IMAGES, LABELS.reshape(2, 1), r"labels y have shape \(2, 1\), expected \(2,\)"),
    ("mnist_cnn", SMALL["mnist_cnn"], "loss", IMAGES, np.array([True, False]), r"labels y must be integers, got dtype bool"),
    ("lstm", SMALL["lstm"], "predict", np.zeros((2, 5, 27)), None, r"lstm: input X has shape \(2, 5, 27\), expected \(N, T, 28\)"),
    ("lstm", SMALL["lstm"], "predict", np.zeros((2, 0, 28)), None, r"lstm: input X has shape \(2, 0, 28\)"),
]
CALLS = {"predict": lambda fw, net, X, y: fw.predict(net, X),
         "loss": lambda fw, net, X, y: fw.loss_and_grads(net, X, y),
         "train": lambda fw, net, X, y: fw.train(net, X, y, epochs=1)}


@pytest.mark.parametrize("model, overrides, call, X, y, message", INPUTS,
                         ids=[f"{case[0]}-{case[2]}-{i}" for i, case in enumerate(INPUTS)])
def test_inputs_refused(model, overrides, call, X, y, message):
    def run(fw):
        net = fw.build(model, dtype="float32", **overrides)
        before = fw.get_weights(net)
        try:
            CALLS[call](fw, net, X, y)
        finally:
            assert all(np.array_equal(before[k], v) for k, v in fw.get_weights(net).items()), "weights changed"
    _assert_one_message(_errors(run), message)


# ---------------------------------------------------------------- set_weights

def _good(model="xor"):
    scratch = get_framework("scratch")
    return scratch.get_weights(scratch.build(model))


WEIGHTS = [
    ("missing", lambda w: {k: v for k, v in w.items() if k != "output.b"}, "float64",
     r"xor: weights do not match the canonical layout: missing output\.b \(1,\)"),
    ("extra", lambda w: {**w, "extra.W": np.zeros(3)}, "float64", r"unexpected 'extra\.W'"),
    ("transposed", lambda w: {**w, "hidden1.W": w["hidden1.W"].T},
     "float64", r"parameter 'hidden1\.W' has shape \(10, 2\), expected \(2, 10\)"),
    ("nan-last", lambda w: {**w, "output.b": np.array([nan])}, "float64", r"parameter 'output\.b' contains NaN or inf"),
    ("integers", lambda w: {**w, "output.W": np.ones((10, 1), dtype=np.int64)},
     "float64", r"parameter 'output\.W' has dtype int64, expected a float array"),
    ("complex", lambda w: {**w, "output.b": np.array([1j])}, "float64", r"parameter 'output\.b' has dtype complex128"),
    ("1e300-in-float32", lambda w: {**w, "hidden1.b": np.full(10, 1e300)}, "float32",
     r"parameter 'hidden1\.b' holds values up to 1e\+300, beyond float32's range"),
    ("not-a-dict", lambda w: list(w.values()), "float64", r"xor: weights must be a dict name -> array, got list"),
]


@pytest.mark.parametrize("_, change, dtype, message", WEIGHTS, ids=[w[0] for w in WEIGHTS])
def test_set_weights_refused_and_nothing_changes(_, change, dtype, message):
    def run(fw):
        net = fw.build("xor", dtype=dtype)
        before = fw.get_weights(net)
        try:
            fw.set_weights(net, change(_good()))
        finally:
            assert all(np.array_equal(before[k], v) for k, v in fw.get_weights(net).items()), "weights changed"
    _assert_one_message(_errors(run), message)


def test_net_of_another_framework_and_unknown_framework(scratch, torch_fw):
    with pytest.raises(ValueError, match="built by 'torch'"):
        scratch.predict(torch_fw.build("xor"), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"expected a Net from scratch\.build"):
        scratch.predict("xor", np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"unknown framework 'jax'.*scratch, torch, keras"):
        get_framework("jax")


# ---------------------------------------------------------------- CSV files (triptych.data.load_csv)

CSV = [
    (b"1,\n3,4\n", r"the first row has an empty cell \(column 2\)"),  # not taken for a header
    (b",y\n3,4\n", r"the first row has an empty cell \(column 1\)"),
    (b"x,1\n3,4\n", r"the first row mixes names and numbers \(x, 1\)"),
    (b"1_000,2\n3,4\n", r"the first row mixes names and numbers \(1_000, 2\)"),  # not read as 1000
    (b"x,y\n1_000,2\n", r"data row 1, column 1 is '1_000', not a plain number"),
    (b'x,y\n"1,000",2\n', r"data row 1, column 1 is '1,000', not a plain number"),
    (b"x,y\n0x10,2\n", r"data row 1, column 1 is '0x10', not a plain number"),
    (b"1,2\n3,oops\n", r"data row 2, column 2 is 'oops', not a plain number"),
    (b"1,2\n3,nan\n", r"data row 2, column 2 is 'nan': NaN/inf are not accepted"),
    (b"1,2\n-Inf,4\n", r"data row 2, column 1 is '-Inf': NaN/inf are not accepted"),
    (b"1,2\n3\n", r"data row 2, column 2 is empty"),
    (b"1,2\n,4\n", r"data row 2, column 1 is empty"),
    (b"1,2\n3,4,5\n", r"is malformed: .*Expected 2 fields in line 2, saw 3"),
    (b"1e999,2\n", r"holds numbers beyond float64's range"),
    (b"1;2\n3;4\n", r"needs at least 2 comma-separated columns \(features and a target\), got 1"),
    (b"", r"has no data rows"),
    (b"x,y\n", r"has no data rows"),
    (bytes(range(256)), r"is not UTF-8 text"),
    (gzip.compress(b"x,y\n1,oops\n"), r"data row 1, column 2 is 'oops'"),  # gzip is read, then checked
]


@pytest.mark.parametrize("content, message", CSV, ids=[f"csv{i}" for i in range(len(CSV))])
def test_csv_refused(tmp_path, content, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        load_csv(str(path))
    assert str(path) in str(info.value)


VALID_CSV = [  # (file bytes, X, y)
    (b"x,y\n1,2\n3,4\n", [[1], [3]], [2, 4]),  # a header of names
    (b"1,2\n3,4\n", [[1], [3]], [2, 4]),  # no header: the first row is data
    (b"\xef\xbb\xbfa,b,c\n1,2,3\n\n", [[1, 2]], [3]),  # byte-order mark, blank line
    (b" 1 , -2.5e1 \r\n.5,+5.\r\n", [[1], [0.5]], [-25, 5]),  # spaces, CRLF, every plain spelling
    (b'"1","2"\n', [[1]], [2]),  # quoted numbers
    (gzip.compress(b"x,y\n1,2\n"), [[1]], [2]),  # gzip-compressed, whatever the name
]


@pytest.mark.parametrize("content, X, y", VALID_CSV, ids=[f"csv{i}" for i in range(len(VALID_CSV))])
def test_csv_accepted(tmp_path, content, X, y):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    got_X, got_y = load_csv(str(path))
    assert got_X.tolist() == X and got_y.ravel().tolist() == y and got_y.shape == (len(y), 1)


def test_csv_that_cannot_be_read(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read CSV '.*missing\.csv': No such file"):
        load_csv(str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match=r"cannot read CSV .*: Is a directory"):
        load_csv(str(tmp_path))


# ---------------------------------------------------------------- MNIST IDX files

def _mnist_dir(folder, replace: dict | None = None):
    """The four standard files, small; ``replace`` maps a file name to the bytes it holds instead."""
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (6, 28, 28)), "train_labels": rng.integers(0, 10, 6),
              "test_images": rng.integers(0, 256, (4, 28, 28)), "test_labels": rng.integers(0, 10, 4)}
    for role, name in mnist.FILES.items():
        (folder / name).write_bytes(gzip.compress((replace or {}).get(name, idx_bytes(arrays[role]))))
    return folder


IDX = [
    ("zero-images", "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((0, 28, 28))),
     r"train-images-idx3-ubyte\.gz' holds no images"),
    ("zero-labels", "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(0)), r"t10k-labels-idx1-ubyte\.gz' holds no labels"),
    ("27x27", "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((6, 27, 27))), r"train images are 27×27 pixels; expected 28×28"),
    ("label-10", "train-labels-idx1-ubyte.gz", idx_bytes(np.full(6, 10)), r"train labels go up to 10; expected 0\.\.9"),
    ("count-mismatch", "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(3)), r"test images \(4, 28, 28\) do not match labels \(3,\)"),
    ("truncated", "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((4, 28, 28)))[:-5], r"holds \d+ bytes; its header"),
    ("csv-not-idx", "train-labels-idx1-ubyte.gz", b"1,2\n3,4\n", r"magic number 0x312c320a"),
]


@pytest.mark.parametrize("_, name, data, message", IDX, ids=[c[0] for c in IDX])
def test_idx_refused(tmp_path, _, name, data, message):
    with pytest.raises(ValueError, match=message):
        mnist.load_idx_directory(_mnist_dir(tmp_path, {name: data}))


# ---------------------------------------------------------------- the command line

CLI = [  # (argv, message, raised before any output?)
    (["train", "xor", "--epochs", "0"], r"option 'epochs' must be an integer ≥ 1, got 0", False),
    (["train", "xor", "--lr", "-1"], r"option 'lr' must be a finite number > 0, got -1\.0", False),
    (["train", "xor", "--lr", "nan"], r"option 'lr' must be a finite number > 0, got nan", False),
    (["train", "xor", "--batch-size", "-3"], r"option 'batch_size' must be an integer ≥ 1, got -3", False),
    (["train", "xor", "--seed", "-1"], r"option 'seed' must be an integer in \[0, 4294967295\]", False),
    (["train", "xor", "--set", "hidden=0"], r"option 'hidden' must be a tuple", False),
    (["train", "xor", "--set", "hidden="], r"--set expects KEY=VALUE with a value, got 'hidden='", False),
    (["train", "xor", "--set", "activation=bogus"], r"option 'activation' must be one of", False),
    (["summary", "xor", "--set", "hiden=3"], r"has no option 'hiden'", True),
    (["parity", "vgg16"], r"unknown model 'vgg16'", True),
    (["bench", "linreg", "--steps", "0"], r"option 'steps' must be an integer ≥ 1, got 0", True),
    (["train", "linreg", "--data", "{tmp}/none.csv"], r"cannot read CSV", False),
    (["train", "xor", "--data", "{tmp}/none.csv"], r"model 'xor' takes no --data", False),
    (["train", "xor", "--save", "{tmp}/x_{framework}.weights.h5"],
     r"--save '.*x_scratch\.weights\.h5': scratch writes \.npz \(scratch/canonical\) files", True),
    (["train", "xor", "--framework", "torch", "--save", "{tmp}/x.npz"], r"torch writes \.pt/\.pth", True),
    (["train", "xor", "--save", "{tmp}/x.npz"], r"would be written by each of 3 frameworks; put \{framework\} in it", True),
    (["train", "xor", "--framework", "torch", "--save", "{tmp}/no/x.pt"], r"folder '.*/no' does not exist", True),
    (["train", "xor", "--framework", "torch", "--save", "{tmp}/folder.pt"], r"--save '.*folder\.pt' is a folder", True),
    (["convert", "{tmp}/a.bin", "{tmp}/b.pt", "--model", "xor"], r"cannot tell the format of '.*a\.bin'", True),
    (["convert", "{tmp}/a.npz", "{tmp}/no/b.pt", "--model", "xor"], r"destination '.*b\.pt': folder '.*/no' does not exist", True),
    (["convert", "{tmp}/a.npz", "{tmp}/b.pt", "--model", "xor"], r"checkpoint '.*a\.npz' does not exist", True),
    (["report", "--out", "{tmp}/file.txt"], r"--out '.*file\.txt' is a file; expected a folder", True),
    (["report", "--out", "{tmp}/mine"], r"--out '.*mine' holds files that are not a Triptych report", True),
]


@pytest.mark.parametrize("argv, message, early", CLI, ids=[" ".join(a[:2]) + f"-{i}" for i, (a, _, _) in enumerate(CLI)])
def test_cli_one_line_exit_2(tmp_path, capsys, argv, message, early):
    (tmp_path / "file.txt").write_text("keep me")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me too")
    (tmp_path / "folder.pt").mkdir()
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("triptych: error:") and err.count("\n") == 1, err
    assert re.search(message, err), err
    if early:
        assert out == "", "work started before the error"
    assert (tmp_path / "file.txt").read_text() == "keep me" and (tmp_path / "mine" / "notes.txt").is_file()


VALID_CLI = [  # (argv, text the output must contain)
    (["summary", "xor", "--set", "hidden=13"], "| `hidden1.W` | (2, 13) |"),  # the README's and --help's example
    (["summary", "house_mlp", "--set", "hidden=[4,3]"], "| `hidden2.W` | (4, 3) |"),
    (["summary", "mnist_cnn", "--set", "filters=2,3", "--set", "kernel_size=5"], "| `conv2.W` | (5, 5, 2, 3) |"),
]


@pytest.mark.parametrize("argv, text", VALID_CLI, ids=[" ".join(a[2:]) for a, _ in VALID_CLI])
def test_cli_accepts(capsys, argv, text):
    assert main(argv) == 0
    assert text in capsys.readouterr().out
