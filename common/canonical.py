"""The canonical weight layout: a framework-neutral dict of NumPy arrays (the scratch layout).

Dense kernels are (in, out); conv kernels (kh, kw, in, out); the dense layer after a
flatten takes its rows in (H, W, C) order; LSTM kernels hold the gates i, f, g, o
side by side along the last axis, with one bias.  ``layout(name, config)`` gives
every parameter's name, shape and meaning; ``check_weights`` validates a dict against it.
"""
from __future__ import annotations

import numpy as np

Layout = dict[str, tuple[tuple[int, ...], str]]


def _dense(layout: Layout, name: str, n_in: int, n_out: int, what: str, rows: str = "") -> None:
    layout[f"{name}.W"] = ((n_in, n_out), f"{what} kernel (in, out){rows}")
    layout[f"{name}.b"] = ((n_out,), f"{what} bias")


def conv_output_size(size: int, kernel: int, pool: int) -> int:
    """Side after a 'valid' k×k convolution then a p×p max-pool with stride p: ⌊(s − k + 1) / p⌋."""
    return (size - kernel + 1) // pool


def layout(name: str, config: dict) -> Layout:
    """Ordered {parameter name: (shape, meaning)} of model ``name`` built with ``config``."""
    out: Layout = {}
    if name == "linreg":
        _dense(out, "linear", config["in_features"], 1, "linear")
    elif name in ("xor", "house_mlp"):
        sizes = (config["in_features"], *config["hidden"])
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            _dense(out, f"hidden{i}", n_in, n_out, f"hidden layer {i}")
        _dense(out, "output", sizes[-1], 1, "output layer")
    elif name == "mnist_cnn":
        k, p, (f1, f2) = config["kernel_size"], config["pool_size"], config["filters"]
        out["conv1.W"] = ((k, k, 1, f1), "first convolution kernel (kh, kw, in, out)")
        out["conv1.b"] = ((f1,), "first convolution bias")
        out["conv2.W"] = ((k, k, f1, f2), "second convolution kernel (kh, kw, in, out)")
        out["conv2.b"] = ((f2,), "second convolution bias")
        h, w = (conv_output_size(conv_output_size(s, k, p), k, p) for s in config["image_size"])
        _dense(out, "output", h * w * f2, config["num_classes"], "classifier", "; rows in (H, W, C) flatten order")
    elif name == "lstm":
        f, u = config["in_features"], config["units"]
        out["lstm.W"] = ((f, 4 * u), "input kernel, gates i, f, g, o along the last axis")
        out["lstm.U"] = ((u, 4 * u), "recurrent kernel, gates i, f, g, o")
        out["lstm.b"] = ((4 * u,), "the one bias, gates i, f, g, o")
        _dense(out, "output", u, config["num_classes"], "classifier on the last hidden state")
    else:
        raise ValueError(f"unknown model {name!r}")
    return out


def parameter_count(name: str, config: dict) -> int:
    return int(sum(np.prod(shape) for shape, _ in layout(name, config).values()))


def check_weights(name: str, config: dict, weights: dict) -> dict[str, np.ndarray]:
    """Return ``weights`` as arrays after checking names and shapes against the layout.

    A missing, extra or mis-shaped entry is a ValueError naming the model, the parameter
    and the expected and actual shape.
    """
    expected = layout(name, config)
    if not isinstance(weights, dict):
        raise ValueError(f"{name}: weights must be a dict name -> array, got {type(weights).__name__}")
    missing = [k for k in expected if k not in weights]
    extra = [k for k in weights if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"{k} {expected[k][0]}" for k in missing))
        if extra:
            parts.append("unexpected " + ", ".join(map(repr, extra)))
        raise ValueError(f"{name}: weights do not match the canonical layout: {'; '.join(parts)}")
    arrays = {}
    for key, (shape, _) in expected.items():
        value = np.asarray(weights[key])
        if value.shape != shape:
            raise ValueError(f"{name}: parameter {key!r} has shape {value.shape}, expected {shape}")
        if not np.issubdtype(value.dtype, np.floating):
            raise ValueError(f"{name}: parameter {key!r} has dtype {value.dtype}, expected a float array")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name}: parameter {key!r} contains NaN or inf")
        arrays[key] = value
    return arrays


def table_markdown(name: str, config: dict) -> str:
    """The layout as a Markdown table (README, report)."""
    rows = [f"| `{k}` | {shape} | {meaning} |" for k, (shape, meaning) in layout(name, config).items()]
    return "\n".join(["| name | shape | meaning |", "|---|---|---|", *rows])
