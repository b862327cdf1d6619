"""conv_family: convolution blocks of any filters, kernel, stride, padding, activation and pool size,
then flatten and one Dense classifier, softmax cross-entropy.

    config: image_size (H, W), channels C, convs = ((filters, (kh, kw), stride, padding, activation, pool), …),
            num_classes
    x (N, H, W, C) → per block: act(conv(x̃, K) + b), x̃ zero-padded by TensorFlow's 'same' rule or not
    ('valid'), then a pool×pool max-pool with stride pool (none when pool = 1) → flatten (H, W, C) → logits
"""
from __future__ import annotations

from typing import NamedTuple

from parity_tests.families import implementations, layers_rule, synthetic_source, whole
from triptych import options
from triptych.canonical import conv_size, dense
from triptych.registry import ModelSpec, register_model

PADDINGS = ("valid", "same")


class Conv(NamedTuple):
    """One block: Conv2D(filters, kernel (kh, kw), stride, padding, activation), then max-pool ``pool``."""

    filters: int
    kernel: tuple[int, int]
    stride: int
    padding: str
    activation: str
    pool: int


def _conv(filters, kernel, stride, padding, activation, pool) -> Conv:
    """A block from plain values; an integer kernel is square."""
    return Conv(filters, (kernel, kernel) if whole(kernel) else tuple(kernel), stride, padding, activation, pool)


def _valid(conv) -> bool:
    return (whole(conv.filters) and len(conv.kernel) == 2 and all(whole(k) for k in conv.kernel)
            and whole(conv.stride) and conv.padding in PADDINGS
            and conv.activation in options.ACTIVATIONS and whole(conv.pool))


def feature_maps(config) -> list[tuple[int, int]]:
    """(h, w) after each block; a ValueError when a kernel or pool does not fit what is left."""
    h, w = config["image_size"]
    sizes = []
    for i, conv in enumerate(config["convs"], start=1):
        (kh, kw), s, p = conv.kernel, conv.stride, conv.pool
        h, w = conv_size(h, kh, s, conv.padding) // p, conv_size(w, kw, s, conv.padding) // p
        if min(h, w) < 1:
            raise ValueError(f"model 'conv_family': block {i} {tuple(conv)} leaves no pixels of a "
                             f"{config['image_size']} image")
        sizes.append((h, w))
    return sizes


def layout(config):
    out, channels = {}, config["channels"]
    for i, conv in enumerate(config["convs"], start=1):
        kh, kw = conv.kernel
        out[f"conv{i}.W"] = ((kh, kw, channels, conv.filters), f"block {i} convolution kernel (kh, kw, in, out)")
        out[f"conv{i}.b"] = ((conv.filters,), f"block {i} convolution bias")
        channels = conv.filters
    h, w = feature_maps(config)[-1]
    dense(out, "output", h * w * channels, config["num_classes"], "classifier", "; rows in (H, W, C) flatten order")
    return out


def flops(config, seq_len=None):
    """2 · (Σ_blocks ho·wo·kh·kw·in·out + flat·classes) per sample (the convolutions before pooling)."""
    (h, w), channels, total = config["image_size"], config["channels"], 0
    for conv in config["convs"]:
        (kh, kw), s = conv.kernel, conv.stride
        ho, wo = conv_size(h, kh, s, conv.padding), conv_size(w, kw, s, conv.padding)
        total += ho * wo * kh * kw * channels * conv.filters
        h, w, channels = ho // conv.pool, wo // conv.pool, conv.filters
    return 2 * (total + h * w * channels * config["num_classes"])


SPEC = ModelSpec(
    name="conv_family",
    task="classification",
    description="(H, W, C) → [Conv2D → max-pool] × k → flatten → Dense, softmax CE (random configurations)",
    arch=dict(image_size=(8, 8), channels=2, convs=(Conv(4, (3, 3), 1, "same", "relu", 2),
                                                    Conv(6, (2, 3), 2, "valid", "tanh", 1)), num_classes=3),
    rules=dict(image_size=options.size_pair(1), channels=options.integer(1), num_classes=options.integer(2),
               convs=layers_rule(_conv, "one or more (filters, (kh, kw) or k, stride, 'valid' | 'same', activation, "
                                        "pool) with positive integers", _valid, min_len=1)),
    training=dict(epochs=5, batch_size=16, lr=1e-3, optimizer="adam", seed=0),
    input_shape=lambda config: (*config["image_size"], config["channels"]),
    layout=layout,
    data=synthetic_source("conv_family"),
    parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam"),
    flops=flops,
    teaches="any kernel, stride, 'same' padding (the odd pixel after) and pool keeps the three frameworks equal",
    origin="Triptych's property-based parity tests",
    order=2001,
)


def register(replace: bool = False) -> ModelSpec:
    return register_model(SPEC, **implementations(SPEC.name), replace=replace)
