"""An LSTM reading MNIST row by row: the recurrent chapter's classic sequence classifier."""
from triptych import options
from triptych.canonical import dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model

SEQ_LEN = 28  # MNIST rows


def layout(config):
    f, u = config["in_features"], config["units"]
    out = {"lstm.W": ((f, 4 * u), "input kernel, gates i, f, g, o along the last axis"),
           "lstm.U": ((u, 4 * u), "recurrent kernel, gates i, f, g, o"),
           "lstm.b": ((4 * u,), "the one bias, gates i, f, g, o")}
    dense(out, "output", u, config["num_classes"], "classifier on the last hidden state")
    return out


def flops(config, seq_len=None):
    """2 · (T·(F + u)·4u + u·classes) per sample."""
    u = config["units"]
    return 2 * ((seq_len or SEQ_LEN) * (config["in_features"] + u) * 4 * u + u * config["num_classes"])


register_model(ModelSpec(
    name="lstm",
    task="classification",
    description="28 rows × 28 pixels → LSTM 64 → dense 10 on the last state, softmax cross-entropy, Adam",
    arch=dict(in_features=28, units=64, num_classes=10),
    rules=dict(in_features=options.integer(1), units=options.integer(1), num_classes=options.integer(2)),
    training=dict(epochs=20, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: (None, config["in_features"]),
    layout=layout,
    data=mnist_source(full_epochs=10),
    parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam", overrides=dict(units=8), seq_len=7),
    bench=dict(batch_size=128, seq_len=SEQ_LEN),
    flops=flops,
    teaches=("gates, the cell state and backpropagation through time on MNIST read row by row; the four gates in one "
             "fused matmul; torch's two biases against Keras's one (canonical: one bias, torch's second frozen at 0)"),
    origin="d2l ch. 10.1 (LSTM); Weidman ch. 6 (recurrent networks)",
    order=50,
))
