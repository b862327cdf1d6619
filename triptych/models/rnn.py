"""A simple tanh RNN reading MNIST row by row: the recurrent chapter's first sequence classifier."""
from triptych import options
from triptych.canonical import dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model

SEQ_LEN = 28  # MNIST rows


def layout(config):
    f, u = config["in_features"], config["units"]
    out = {"rnn.W": ((f, u), "input kernel (torch weight_ih_l0 transposed)"),
           "rnn.U": ((u, u), "recurrent kernel (torch weight_hh_l0 transposed)"),
           "rnn.b": ((u,), "the one bias (torch bias_ih_l0 + bias_hh_l0, bias_hh_l0 kept at zero)")}
    dense(out, "output", u, config["num_classes"], "classifier on the last hidden state")
    return out


def flops(config, seq_len=None):
    """2 · (T·(F + u)·u + u·classes) per sample."""
    u = config["units"]
    return 2 * ((seq_len or SEQ_LEN) * (config["in_features"] + u) * u + u * config["num_classes"])


register_model(ModelSpec(
    name="rnn",
    task="classification",
    description="28 rows × 28 pixels → tanh RNN 64 → dense 10 on the last state, softmax cross-entropy, Adam",
    arch=dict(in_features=28, units=64, num_classes=10),
    rules=dict(in_features=options.integer(1), units=options.integer(1), num_classes=options.integer(2)),
    training=dict(epochs=10, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: (None, config["in_features"]),
    layout=layout,
    data=mnist_source(full_epochs=10),
    parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam", overrides=dict(units=8), seq_len=7),
    bench=dict(batch_size=128, seq_len=SEQ_LEN),
    flops=flops,
    teaches="a hidden state carried through time and backpropagation through time, in its simplest form; "
            "torch's two biases against Keras's one",
    origin="d2l ch. 9.5–9.7 (RNN from scratch, concise, BPTT); the book's recurrent chapter",
    order=80,
))
