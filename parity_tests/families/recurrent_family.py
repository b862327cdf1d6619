"""recurrent_family: stacked recurrent layers of any widths over sequences of a given length, the last
hidden state into one sigmoid unit, binary cross-entropy.

    config: cell ('lstm'), units = (u1, …) one per stacked layer, in_features F, seq_len T
    x (N, T, F) → layer 1 (every step) → … → layer k (last step only) h_T (N, u_k) → σ(h_T W + b) (N, 1)
"""
from __future__ import annotations

from parity_tests.families import implementations, synthetic_source
from triptych import options
from triptych.canonical import dense
from triptych.registry import ModelSpec, register_model

GATES = {"lstm": "i, f, g, o"}  # gates side by side along the kernels' last axis, in this order


def layout(config):
    cell, gates = config["cell"], GATES[config["cell"]]
    n = len(gates.split(", "))
    out, n_in = {}, config["in_features"]
    for i, u in enumerate(config["units"], start=1):
        out[f"{cell}{i}.W"] = ((n_in, n * u), f"layer {i} input kernel, gates {gates} along the last axis")
        out[f"{cell}{i}.U"] = ((u, n * u), f"layer {i} recurrent kernel, gates {gates}")
        out[f"{cell}{i}.b"] = ((n * u,), f"layer {i} bias, gates {gates}")
        n_in = u
    dense(out, "output", n_in, 1, "sigmoid output on the last hidden state")
    return out


def flops(config, seq_len=None):
    """2 · Σ_layers T·(in + u)·gates·u + 2·u_k per sample."""
    n, n_in, total = len(GATES[config["cell"]].split(", ")), config["in_features"], 0
    for u in config["units"]:
        total += config["seq_len"] * (n_in + u) * n * u
        n_in = u
    return 2 * (total + n_in)


SPEC = ModelSpec(
    name="recurrent_family",
    task="binary",
    description="(T, F) → stacked recurrent layers → last state → Dense(1) sigmoid, BCE (random configurations)",
    arch=dict(cell="lstm", units=(6, 4), in_features=3, seq_len=5),
    rules=dict(cell=options.choice(*GATES), units=options.int_tuple(1), in_features=options.integer(1),
               seq_len=options.integer(1)),
    training=dict(epochs=5, batch_size=16, lr=1e-3, optimizer="adam", seed=0),
    input_shape=lambda config: (config["seq_len"], config["in_features"]),
    layout=layout,
    data=synthetic_source("recurrent_family"),
    parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam"),
    flops=flops,
    teaches="any width, depth and sequence length keeps the three frameworks' recurrent layers equal",
    origin="Triptych's property-based parity tests",
    order=2002,
)


def register(replace: bool = False) -> ModelSpec:
    return register_model(SPEC, **implementations(SPEC.name), replace=replace)
