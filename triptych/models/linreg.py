"""Linear regression: d2l's first model, y = X·w + b trained by minibatch SGD."""
import numpy as np

from triptych import options
from triptych.canonical import dense, dense_flops
from triptych.data import linreg_data, load_csv
from triptych.registry import DataSource, ModelSpec, register_model


def layout(config):
    out = {}
    dense(out, "linear", config["in_features"], 1, "linear")
    return out


def load(data, quick, seed):
    """A CSV (last column the target; train = test), or 1000/200 synthetic rows."""
    if data:
        X, y = load_csv(data)
        return (X, y, X, y, f"CSV {data} ({len(X)} rows × {X.shape[1]} features; train = test)",
                {"in_features": X.shape[1]})
    X, y = linreg_data(1000, seed=seed)
    X_test, y_test = linreg_data(200, seed=seed + 1)
    return X, y, X_test, y_test, "synthetic: y = X·[2, −3.4] + 4.2 + N(0, 0.01²), 1000 train / 200 test rows", {}


def describe(weights, outputs):
    return f"w = {np.round(weights['linear.W'].ravel().astype(float), 4).tolist()}  b = {weights['linear.b'][0]:.4f}"


register_model(ModelSpec(
    name="linreg",
    task="regression",
    description="y = X·w + b, MSE, SGD",
    arch=dict(in_features=2, init="default", l2=0.0),  # l2 = λ: the loss gains λ/2·‖w‖² (weight only, not b)
    rules=dict(in_features=options.integer(1), init=options.choice("default", "zeros"), l2=options.non_negative()),
    training=dict(epochs=3, batch_size=10, lr=0.03, optimizer="sgd", seed=0, eval_every=None),
    input_shape=lambda config: (config["in_features"],),
    layout=layout,
    data=DataSource(load, "synthetic y = X·[2, −3.4] + 4.2 + noise, or a CSV", takes_data=True,
                    data_help="a numeric CSV file, last column the target"),
    parity=dict(n=100, batch_size=10, epochs=6, lr=0.03, optimizer="sgd"),
    bench=dict(batch_size=10),
    flops=lambda config, seq_len=None: dense_flops(layout(config)),
    describe=describe,
    teaches=("the training loop at its smallest — data, model, squared loss, minibatch SGD — recovering "
             "w = [2, −3.4], b = 4.2 from 1,000 noisy points; every later model repeats these steps"),
    origin="d2l ch. 3.2–3.3: linear regression from scratch, then concise",
    order=20,
))
