"""XOR: the Keras XOR walk-through's network, the smallest thing that needs a hidden layer."""
import numpy as np

from triptych import options
from triptych.canonical import dense, dense_flops
from triptych.data import xor_data
from triptych.experiments import fixed_source
from triptych.registry import ModelSpec, register_model


def layout(config):
    out = {}
    sizes = (config["in_features"], *config["hidden"])
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        dense(out, f"hidden{i}", n_in, n_out, f"hidden layer {i}")
    dense(out, "output", sizes[-1], 1, "output layer")
    return out


def _data():
    X, y = xor_data()
    return X, y, X, y


register_model(ModelSpec(
    name="xor",
    task="binary",
    description="2 → 10 tanh → 1 sigmoid, binary cross-entropy, SGD 0.1",
    arch=dict(in_features=2, hidden=(10,), activation="tanh", init="default"),
    rules=dict(in_features=options.integer(1), hidden=options.int_tuple(1),
               activation=options.choice(*options.ACTIVATIONS), init=options.choice("default")),
    training=dict(epochs=200, batch_size=1, lr=0.1, optimizer="sgd", seed=0, eval_every=None),
    input_shape=lambda config: (config["in_features"],),
    layout=layout,
    data=fixed_source(_data, "the four XOR points (train = test)"),
    parity=dict(n=4, batch_size=None, epochs=60, lr=0.1, optimizer="sgd"),
    bench=dict(batch_size=4),
    flops=lambda config, seq_len=None: dense_flops(layout(config)),
    describe=lambda weights, outputs: f"outputs for 00 01 10 11: {np.round(outputs.ravel().astype(float), 3).tolist()}",
    teaches=("why hidden layers: XOR is not linearly separable and ten tanh units make it learnable; a sigmoid "
             "output with binary cross-entropy; the dense layout every later model repeats (torch weight (out, in), "
             "Keras kernel (in, out))"),
    origin="the Keras XOR walk-through: a 2 → tanh → sigmoid Sequential fitted to the four points with SGD",
    order=10,
))
