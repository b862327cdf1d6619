"""A GRU reading MNIST row by row: the gated recurrent unit, the porting engineer's trickiest layer."""
from triptych import options
from triptych.canonical import dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model

SEQ_LEN = 28  # MNIST rows
GATES = ("columns [0, u) z (update gate), [u, 2u) r (reset gate), [2u, 3u) h (candidate): Keras's order; "
         "torch's rows are r, z, n")


def layout(config):
    f, u = config["in_features"], config["units"]
    out = {"gru.W": ((f, 3 * u), f"input kernel, {GATES} (torch weight_ih_l0 transposed, r and z swapped)"),
           "gru.U": ((u, 3 * u), "recurrent kernel, blocks z, r, h (torch weight_hh_l0 transposed, r and z swapped)"),
           "gru.b": ((2, 3 * u), "row 0 the input bias, row 1 the recurrent bias, blocks z, r, h (Keras "
                                 "reset_after=True; torch bias_ih_l0, bias_hh_l0, r and z swapped); the candidate's "
                                 "recurrent bias sits inside r ⊙ (h U_h + b_h), so the rows cannot be folded")}
    dense(out, "output", u, config["num_classes"], "classifier on the last hidden state")
    return out


def flops(config, seq_len=None):
    """2 · (T·(F + u)·3u + u·classes) per sample."""
    u = config["units"]
    return 2 * ((seq_len or SEQ_LEN) * (config["in_features"] + u) * 3 * u + u * config["num_classes"])


register_model(ModelSpec(
    name="gru",
    task="classification",
    description="28 rows × 28 pixels → GRU 64 → dense 10 on the last state, softmax cross-entropy, Adam",
    arch=dict(in_features=28, units=64, num_classes=10),
    rules=dict(in_features=options.integer(1), units=options.integer(1), num_classes=options.integer(2)),
    training=dict(epochs=10, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: (None, config["in_features"]),
    layout=layout,
    data=mnist_source(full_epochs=10),
    parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam", overrides=dict(units=8), seq_len=7),
    bench=dict(batch_size=128, seq_len=SEQ_LEN),
    flops=flops,
    teaches="update and reset gates; gate order (torch r, z, n; Keras z, r, h), reset after the recurrent "
            "matmul, and two biases that cannot be folded into one",
    origin="d2l ch. 10.2 (GRU); the book's recurrent chapter",
    order=90,
))
