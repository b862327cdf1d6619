"""The house-price MLP of Weidman's "Deep Learning from Scratch", ch. 3, with ch. 4's optimizer toolbox."""
from triptych import options
from triptych.canonical import dense, dense_flops
from triptych.data import boston_data
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
    X_train, X_test, y_train, y_test = boston_data()
    return X_train, y_train, X_test, y_test


register_model(ModelSpec(
    name="house_mlp",
    task="regression",
    description="13 → 13 sigmoid → 13 sigmoid → 1, MSE, SGD 0.01",
    arch=dict(in_features=13, hidden=(13, 13), activation="sigmoid", init="default", dropout=0.0),
    rules=dict(in_features=options.integer(1), hidden=options.int_tuple(1, min_len=0),
               activation=options.choice(*options.ACTIVATIONS), init=options.choice(*options.DENSE_INITS),
               dropout=options.fraction()),
    training=dict(epochs=50, batch_size=32, lr=0.01, optimizer="sgd", seed=20190501, eval_every=10,
                  keep_best=True),
    input_shape=lambda config: (config["in_features"],),
    layout=layout,
    data=fixed_source(_data, "Boston housing from mlxtend (506 × 13), split 70/30 with random_state=80718, "
                             "standardised with training statistics"),
    parity=dict(n=64, batch_size=8, epochs=7, lr=0.01, optimizer="sgd"),
    bench=dict(batch_size=32),
    flops=lambda config, seq_len=None: dense_flops(layout(config)),
    teaches=("a multilayer perceptron on tabular data: standardised features, sigmoid layers, MSE, evaluation every "
             "10 epochs keeping the best weights; and the optimizer toolbox (momentum, Nesterov, Adam, decay, "
             "weight decay, dropout) whose conventions differ between torch and Keras"),
    origin=('Weidman, "Deep Learning from Scratch", ch. 3 (the Boston-housing network) and ch. 4 (momentum, '
            'learning-rate decay, initialisation, dropout)'),
    order=30,
))
