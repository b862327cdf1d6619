"""dense_family: a stack of Dense layers of any widths and activations, one linear output, MSE.

    config: in_features F, hidden = ((width, activation), …) with activation in linear | sigmoid | tanh | relu
    x (N, F) → h_i = act_i(h_{i−1} W_i + b_i) → y = h W + b (N, 1)
"""
from __future__ import annotations

from typing import NamedTuple

from parity_tests.families import implementations, layers_rule, synthetic_source, whole
from triptych import options
from triptych.canonical import dense, dense_flops
from triptych.registry import ModelSpec, register_model


class Hidden(NamedTuple):
    """One hidden layer."""

    width: int
    activation: str


def layout(config):
    out = {}
    sizes = (config["in_features"], *(h.width for h in config["hidden"]))
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        dense(out, f"hidden{i}", n_in, n_out, f"hidden layer {i} ({config['hidden'][i - 1].activation})")
    dense(out, "output", sizes[-1], 1, "linear output layer")
    return out


SPEC = ModelSpec(
    name="dense_family",
    task="regression",
    description="F → [Dense(width, activation)] × depth → 1, MSE (random configurations)",
    arch=dict(in_features=3, hidden=(Hidden(8, "tanh"), Hidden(4, "relu"))),
    rules=dict(in_features=options.integer(1),
               hidden=layers_rule(Hidden, f"a sequence of (width ≥ 1, activation in {options.ACTIVATIONS}) pairs",
                                  lambda h: whole(h.width) and h.activation in options.ACTIVATIONS)),
    training=dict(epochs=5, batch_size=16, lr=0.05, optimizer="sgd", seed=0),
    input_shape=lambda config: (config["in_features"],),
    layout=layout,
    data=synthetic_source("dense_family"),
    parity=dict(n=16, batch_size=4, epochs=13, lr=0.05, optimizer="sgd"),
    flops=lambda config, seq_len=None: dense_flops(layout(config)),
    teaches="any depth, width and activation keeps the three frameworks equal",
    origin="Triptych's property-based parity tests",
    order=2000,
)


def register(replace: bool = False) -> ModelSpec:
    return register_model(SPEC, **implementations(SPEC.name), replace=replace)
