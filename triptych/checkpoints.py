"""Canonical ``.npz`` checkpoints (also scratch's native format), loaded with ``allow_pickle=False``."""
from __future__ import annotations

import json
import zipfile

import numpy as np

META_KEY = "__triptych__"  # a JSON string: {"model": ..., "config": ...}


def save_npz(path: str, weights: dict[str, np.ndarray], model: str, config: dict) -> None:
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
