"""A stacked bidirectional LSTM reading MNIST row by row: two directions, each with weights of its own."""
from triptych import options
from triptych.canonical import dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model

SEQ_LEN = 28  # MNIST rows
DIRECTIONS = {"forward": "reads t = 1..T", "backward": "reads t = T..1 (its own weights)"}


def layout(config):
    """Per layer and direction: W (in, 4u), U (u, 4u), b (4u,), gates i, f, g, o; layer 2 reads the
    first layer's sequence, [forward h_t, backward h_t] (2u per step)."""
    f, u = config["in_features"], config["units"]
    out = {}
    for layer, n_in in (("lstm1", f), ("lstm2", 2 * u)):
        for direction, reads in DIRECTIONS.items():
            name = f"{layer}.{direction}"
            rows = "" if layer == "lstm1" else ", rows [forward h_t, backward h_t]"
            out[f"{name}.W"] = ((n_in, 4 * u), f"{direction} input kernel{rows}, gates i, f, g, o; {reads}")
            out[f"{name}.U"] = ((u, 4 * u), f"{direction} recurrent kernel, gates i, f, g, o")
            out[f"{name}.b"] = ((4 * u,), f"{direction} one bias (torch b_ih + b_hh, b_hh frozen at 0), gates i, f, g, o")
    dense(out, "output", 2 * u, config["num_classes"],
          "classifier on [last forward state h_T, final backward state (after x_1)]")
    return out


def flops(config, seq_len=None):
    """2 · (T·2·((F + u) + (2u + u))·4u + 2u·classes) per sample: two directions in each of two layers."""
    f, u, t = config["in_features"], config["units"], seq_len or SEQ_LEN
    return 2 * (t * 2 * ((f + u) + (3 * u)) * 4 * u + 2 * u * config["num_classes"])


register_model(ModelSpec(
    name="bilstm",
    task="classification",
    description=("28 rows × 28 pixels → bidirectional LSTM 64 (sequence) → bidirectional LSTM 64 → "
                 "[last forward, final backward state] → dense 10, softmax cross-entropy, Adam"),
    arch=dict(in_features=28, units=64, num_classes=10),
    rules=dict(in_features=options.integer(1), units=options.integer(1), num_classes=options.integer(2)),
    training=dict(epochs=10, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: (None, config["in_features"]),
    layout=layout,
    data=mnist_source(full_epochs=10),
    parity=dict(n=8, batch_size=4, epochs=25, lr=1e-3, optimizer="adam", overrides=dict(units=3), seq_len=4),
    bench=dict(batch_size=128, seq_len=SEQ_LEN),
    flops=flops,
    teaches=("a second direction read backwards with weights of its own, stacked: backpropagation through time both "
             "ways; Keras's go_backwards copy re-reversed by Bidirectional, torch's h_n as (layers × 2, N, H)"),
    origin="d2l ch. 10.3–10.4 (deep and bidirectional RNNs)",
    order=95,
))
