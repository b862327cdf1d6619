"""recurrent_family: stacked recurrent layers (simple RNN, GRU or LSTM) of any widths over sequences of a
given length, the last hidden state into a dense classifier, softmax cross-entropy.

    config: cell ('rnn' | 'gru' | 'lstm'), units = (u1, …) one per stacked layer, in_features F, seq_len T,
            num_classes
    x (N, T, F) → layer 1 (every step) → … → layer k (last step only) h_T (N, u_k) → logits h_T W + b

Logits and softmax cross-entropy rather than a sigmoid and binary cross-entropy: all three compute it
exactly, whereas BCE on probabilities is clipped differently by each (the conventions table), which a
large drawn step that saturates the output would show instead of the layers.
"""
from __future__ import annotations

from typing import NamedTuple

from parity_tests.families import implementations, synthetic_source
from triptych import options
from triptych.canonical import dense
from triptych.registry import ModelSpec, register_model


class Cell(NamedTuple):
    blocks: str  # the gate blocks side by side along the kernels' last axis
    bias: str  # what the bias holds
    bias_rows: int  # 1: b (k·u,); 2: b (2, k·u), an input and a recurrent bias

    @property
    def gates(self) -> int:
        return len(self.blocks.split(", "))


CELLS = {"rnn": Cell("h", "bias", 1),
         "gru": Cell("z, r, h", "row 0 the input bias, row 1 the recurrent bias (the reset acts after the "
                                "recurrent matmul), blocks z, r, h", 2),
         "lstm": Cell("i, f, g, o", "the one bias, gates i, f, g, o", 1)}


def layout(config):
    cell, out, n_in = CELLS[config["cell"]], {}, config["in_features"]
    for i, u in enumerate(config["units"], start=1):
        name, k = f"{config['cell']}{i}", cell.gates
        out[f"{name}.W"] = ((n_in, k * u), f"layer {i} input kernel, blocks {cell.blocks} along the last axis")
        out[f"{name}.U"] = ((u, k * u), f"layer {i} recurrent kernel, blocks {cell.blocks}")
        out[f"{name}.b"] = ((k * u,) if cell.bias_rows == 1 else (cell.bias_rows, k * u), f"layer {i} {cell.bias}")
        n_in = u
    dense(out, "output", n_in, config["num_classes"], "classifier on the last hidden state")
    return out


def flops(config, seq_len=None):
    """2 · (Σ_layers T·(in + u)·gates·u + u_k·classes) per sample."""
    n, n_in, total = CELLS[config["cell"]].gates, config["in_features"], 0
    for u in config["units"]:
        total += config["seq_len"] * (n_in + u) * n * u
        n_in = u
    return 2 * (total + n_in * config["num_classes"])


SPEC = ModelSpec(
    name="recurrent_family",
    task="classification",
    description="(T, F) → stacked recurrent layers → last state → Dense, softmax CE (random configurations)",
    arch=dict(cell="gru", units=(6, 4), in_features=3, seq_len=5, num_classes=2),
    rules=dict(cell=options.choice(*CELLS), units=options.int_tuple(1), in_features=options.integer(1),
               seq_len=options.integer(1), num_classes=options.integer(2)),
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
