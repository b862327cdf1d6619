"""Checkpoint names and the canonical ``.npz`` format (also scratch's native one), loaded with
``allow_pickle=False``.  The extension of a checkpoint's name says its format."""
from __future__ import annotations

import json
import zipfile

import numpy as np

from triptych.files import check_writable

META_KEY = "__triptych__"  # a JSON string: {"model": ..., "config": ...}
EXTENSIONS = {"scratch": (".npz",), "torch": (".pt", ".pth"), "keras": (".weights.h5",)}
FORMATS = {"scratch": ".npz (scratch/canonical)", "torch": ".pt/.pth (torch state_dict)",
           "keras": ".weights.h5 (Keras)"}


def checkpoint_framework(path: str) -> str:
    """The framework whose native format the name ``path`` says: .pt/.pth torch, .weights.h5 Keras, .npz scratch."""
    for framework, extensions in EXTENSIONS.items():
        if str(path).endswith(extensions):
            return framework
    raise ValueError(f"cannot tell the format of {str(path)!r}: expected {', '.join(FORMATS.values())}")


def check_checkpoint_path(path, framework: str, what: str = "checkpoint") -> str:
    """``path`` as a string after checking that its extension is ``framework``'s format and that the
    file can be written (its folder exists and takes files): a ValueError otherwise."""
    if not str(path).endswith(EXTENSIONS[framework]):
        raise ValueError(f"{what} {str(path)!r}: {framework} writes {FORMATS[framework]} files, so the name "
                         f"must end in {' or '.join(EXTENSIONS[framework])}")
    return check_writable(path, what)


def save_npz(path: str, weights: dict[str, np.ndarray], model: str, config: dict) -> None:
    """Write ``weights`` and {model, config} to ``path`` (Framework.save makes the write atomic)."""
    meta = json.dumps({"model": model, "config": config})
    with open(path, "wb") as fh:
        np.savez(fh, **weights, **{META_KEY: np.array(meta)})


def load_npz(path: str) -> tuple[dict[str, np.ndarray], dict | None]:
    """(weights, meta or None).  A missing, corrupt or non-npz file is a ValueError naming it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ValueError(f"checkpoint {path!r} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"checkpoint {path!r} is not a readable .npz file ({exc})") from None
    meta = arrays.pop(META_KEY, None)
    return arrays, (json.loads(str(meta)) if meta is not None else None)
