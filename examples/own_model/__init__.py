"""Bring your own model: logistic regression on scikit-learn's breast-cancer table, written three ways
outside Triptych's core packages, and registered so that it gets the whole parity ladder for free.

    triptych --plugin examples/own_model parity logreg          # the six rungs, every pair
    triptych --plugin examples/own_model train logreg           # train it in all three frameworks

What a declaration holds (see triptych/registry.py's ModelSpec): the task (binary → BCE on
probabilities), the architecture defaults and their rules, the training recipe, the per-sample input
shape, the canonical layout (name → (shape, meaning)), the data, a small parity problem, the bench
problem and its FLOPs.  The three implementation modules are given by dotted name, so a framework is
imported only when it is used: a missing torch does not stop the scratch and Keras versions.
"""
from triptych import DataSource, ModelSpec, register_model

PACKAGE = __name__  # "triptych_plugin_own_model" when loaded with --plugin, "examples.own_model" on import


def layout(config):
    """One dense unit: W (F, 1) in Keras's (in, out) order, b (1,)."""
    f = config["in_features"]
    return {"logit.W": ((f, 1), "weights (in, out): torch Linear.weight transposed"),
            "logit.b": ((1,), "intercept")}


def load(data, quick, seed):
    """Breast cancer (569 × 30), stratified 70/30 split (random_state=0), standardised with training statistics."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return ((X_train - mean) / std, y_train.reshape(-1, 1).astype(float), (X_test - mean) / std,
            y_test.reshape(-1, 1).astype(float), "breast cancer (scikit-learn), 398 train / 171 test rows", {})


SPEC = register_model(ModelSpec(
    name="logreg",
    task="binary",
    description="logistic regression: 30 features → 1 sigmoid unit, binary cross-entropy, SGD 0.1",
    arch=dict(in_features=30),
    training=dict(epochs=30, batch_size=32, lr=0.1, optimizer="sgd", seed=0, eval_every=None),
    input_shape=lambda config: (config["in_features"],),
    layout=layout,
    data=DataSource(load, "breast cancer (scikit-learn)"),
    parity=dict(n=40, batch_size=8, epochs=10, lr=0.1, optimizer="sgd"),
    flops=lambda config, seq_len=None: 2 * config["in_features"],
    teaches="bringing your own model: a declaration and three files get the whole ladder",
    origin="examples/own_model",
), scratch=f"{PACKAGE}.scratch_logreg", torch=f"{PACKAGE}.torch_logreg", keras=f"{PACKAGE}.keras_logreg",
    replace=True)
