"""The canonical weight layout: a framework-neutral dict of NumPy arrays (the scratch layout).

Each model declares its layout (``ModelSpec.layout``, built with the helpers here): dense kernels
are (in, out); conv kernels (kh, kw, in, out); the dense layer after a flatten takes its rows in
(H, W, C) order; recurrent kernels hold their gates side by side along the last axis.  The one
exception is deep_net, whose scratch code keeps the NumPy L-layer idiom: W<l> (out, in), b<l> (out, 1).
``layout(name, config)`` gives every parameter's name, shape and meaning; ``check_weights``
validates a dict against it.

Trainable weights and state: an entry is *state* (a layer's non-trainable statistics, carried by
``get_weights``/``set_weights``, checkpoints and ``convert`` but never trained and without a gradient)
when its last name part is one of :data:`STATE` — BatchNorm's ``moving_mean`` and ``moving_variance``
(:func:`batchnorm`); every other entry is trainable.  :func:`is_state` is that one rule.
"""
from __future__ import annotations

import re

import numpy as np

from triptych.registry import Layout, get_spec


def dense(layout: Layout, name: str, n_in: int, n_out: int, what: str, rows: str = "") -> None:
    """Add ``name.W`` (in, out) and ``name.b`` (out,) to ``layout``."""
    layout[f"{name}.W"] = ((n_in, n_out), f"{what} kernel (in, out){rows}")
    layout[f"{name}.b"] = ((n_out,), f"{what} bias")


STATE = ("moving_mean", "moving_variance")  # the last name parts that mark a canonical entry as state


def is_state(name: str) -> bool:
    """Whether canonical entry ``name`` is non-trainable state (``<layer>.moving_mean``, ``<layer>.moving_variance``):
    carried with the weights, never given a gradient or an optimizer update."""
    return name.rsplit(".", 1)[-1] in STATE


def trainable(names) -> list[str]:
    """The trainable entries of ``names`` (a layout or a weights dict), in their order: those with gradients."""
    return [name for name in names if not is_state(name)]


def batchnorm(layout: Layout, name: str, channels: int, what: str) -> None:
    """Add BatchNorm's ``name.gamma``, ``name.beta`` (trainable, (C,)) and its state ``name.moving_mean``,
    ``name.moving_variance`` ((C,), the biased batch variance's moving average) to ``layout``."""
    layout[f"{name}.gamma"] = ((channels,), f"{what} BatchNorm scale γ")
    layout[f"{name}.beta"] = ((channels,), f"{what} BatchNorm shift β")
    layout[f"{name}.moving_mean"] = ((channels,), f"{what} BatchNorm moving mean (state, not trained)")
    layout[f"{name}.moving_variance"] = ((channels,), f"{what} BatchNorm moving variance, biased (÷ n) "
                                                      f"(state, not trained)")


def is_bias(name: str) -> bool:
    """Whether canonical parameter ``name`` is a bias: ``b``, ``<layer>.b`` or ``b<l>`` (the L-layer b1…bL)."""
    return re.fullmatch(r"b\d*", name.rsplit(".", 1)[-1]) is not None


def conv_output_size(size: int, kernel: int, pool: int) -> int:
    """Side after a 'valid' k×k convolution then a p×p max-pool with stride p: ⌊(s − k + 1) / p⌋."""
    return (size - kernel + 1) // pool


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same': output ⌈size / stride⌉; total padding max((out − 1)·s + k − size, 0),
    split (total // 2 before, the rest after), so an odd total puts the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """Side after a convolution with stride s: 'valid' ⌊(size − k) / s⌋ + 1 (0 when the kernel does not
    fit), 'same' ⌈size / s⌉."""
    if padding == "same":
        return -(-size // stride)
    return max((size - kernel) // stride + 1, 0)


def layout(name: str, config: dict) -> Layout:
    """Ordered {parameter name: (shape, meaning)} of model ``name`` built with ``config``."""
    return get_spec(name).layout(config)


def parameter_count(name: str, config: dict) -> int:
    """Trainable parameters (state entries, BatchNorm's moving statistics, are not counted)."""
    return int(sum(np.prod(shape) for key, (shape, _) in layout(name, config).items() if not is_state(key)))


def check_weights(name: str, config: dict, weights: dict, dtype: str | None = None) -> dict[str, np.ndarray]:
    """Return ``weights`` as arrays (cast to ``dtype`` when given) after checking names, shapes and values
    against the layout.

    A missing, extra or mis-shaped entry, a non-float or non-finite array, or a value that ``dtype``
    cannot hold (1e300 in float32) is a ValueError naming the model, the parameter and what was expected.
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
        if dtype is not None:
            with np.errstate(over="ignore"):
                cast = value.astype(dtype)
            if not np.all(np.isfinite(cast)):
                raise ValueError(f"{name}: parameter {key!r} holds values up to {np.max(np.abs(value)):.3g}, beyond "
                                 f"{dtype}'s range (±{np.finfo(dtype).max:.3g})")
            value = cast
        arrays[key] = value
    return arrays


def table_markdown(name: str, config: dict) -> str:
    """The layout as a Markdown table (README, report)."""
    rows = [f"| `{k}` | {shape} | {meaning} |" for k, (shape, meaning) in layout(name, config).items()]
    return "\n".join(["| name | shape | meaning |", "|---|---|---|", *rows])


def dense_flops(config_layout: Layout) -> int:
    """Forward FLOPs per sample of a stack of dense layers: 2 · Σ in·out over the kernels (every non-bias)."""
    return 2 * sum(int(np.prod(shape)) for key, (shape, _) in config_layout.items() if not is_bias(key))
