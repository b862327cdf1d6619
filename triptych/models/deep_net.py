"""The NumPy L-layer network ("Deep Neural Network – Application") on scikit-learn's breast-cancer table:
30 → 20 → 7 → 5 → 1, ReLU then a sigmoid, He initialisation, full-batch gradient descent.

Its canonical layout is the notebook's (the scratch layout): ``W<l>`` (n_l, n_{l−1}), which is torch's
``Linear.weight`` as it is and the Keras kernel transposed, and ``b<l>`` a column (n_l, 1)."""
from functools import cache

from triptych import options
from triptych.canonical import dense_flops
from triptych.data import breast_cancer_data
from triptych.experiments import fixed_source
from triptych.registry import ModelSpec, register_model


def layer_dims(config) -> tuple[int, ...]:
    """(n_0, n_1, …, n_L): the notebook's ``layers_dims``."""
    return (config["in_features"], *config["hidden"], 1)


def layout(config):
    dims, out = layer_dims(config), {}
    for l in range(1, len(dims)):
        out[f"W{l}"] = ((dims[l], dims[l - 1]), f"layer {l} weights (n_{l}, n_{l - 1}) = (out, in): torch "
                                                "Linear.weight as is, the Keras kernel transposed")
        out[f"b{l}"] = ((dims[l], 1), f"layer {l} bias, a column (n_{l}, 1) broadcast over the examples")
    return out


def _data():
    X_train, X_test, y_train, y_test = breast_cancer_data()
    return X_train, y_train, X_test, y_test


@cache
def logistic_regression_accuracy() -> float:
    """Test accuracy of scikit-learn's LogisticRegression (its defaults) on the same split: the baseline."""
    from sklearn.linear_model import LogisticRegression

    X_train, X_test, y_train, y_test = breast_cancer_data()
    return float(LogisticRegression().fit(X_train, y_train.ravel()).score(X_test, y_test.ravel()))


register_model(ModelSpec(
    name="deep_net",
    task="binary",
    description="30 → 20 ReLU → 7 ReLU → 5 ReLU → 1 sigmoid (NumPy L-layer idiom in scratch), He init, "
                "binary cross-entropy, full-batch gradient descent 0.0075 × 2,500",
    arch=dict(in_features=30, hidden=(20, 7, 5), init="he_normal"),
    rules=dict(in_features=options.integer(1), hidden=options.int_tuple(1, min_len=0),
               init=options.choice(*options.DENSE_INITS)),
    training=dict(epochs=2500, batch_size=None, lr=0.0075, optimizer="sgd", seed=1, eval_every=None),
    input_shape=lambda config: (config["in_features"],),
    layout=layout,
    data=fixed_source(_data, "breast cancer from scikit-learn (569 × 30), stratified 70/30 split with "
                             "random_state=0, standardised with training statistics"),
    parity=dict(n=32, batch_size=8, epochs=13, lr=0.05, optimizer="sgd"),
    bench=dict(batch_size=398),
    flops=lambda config, seq_len=None: dense_flops(layout(config)),
    describe=lambda weights, outputs: (f"scikit-learn LogisticRegression on the same split: "
                                       f"{logistic_regression_accuracy():.4f} test accuracy"),
    teaches="the NumPy L-layer idiom (parameters dict, examples as columns, caches from forward to backward) "
            "beside the Operation/Layer idiom; He initialisation; full-batch gradient descent",
    origin='deeplearning.ai "Building your Deep Neural Network: Step by Step" and "Deep Neural Network – '
           'Application" (NumPy L-layer model)',
    order=100,
))
