"""The classic PyTorch-tutorial MNIST MLP: 784 → 256 ReLU → 64 ReLU → 10, trained on MSE against the
one-hot label with SGD and momentum."""
import numpy as np

from triptych import options
from triptych.canonical import dense, dense_flops
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model


def layout(config):
    h, w = config["image_size"]
    out = {}
    sizes = (h * w, *config["hidden"])
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        rows = "; rows in row-major pixel order" if i == 1 else ""
        dense(out, f"hidden{i}", n_in, n_out, f"hidden layer {i}", rows)
    dense(out, "output", sizes[-1], config["num_classes"], "output layer (raw outputs, no softmax)")
    return out


def metrics(outputs, labels):
    """loss: the training loss, MSE against the one-hot labels (mean over N × C); accuracy: argmax = label."""
    onehot = np.eye(outputs.shape[1])[labels]
    return {"loss": float(np.mean((outputs - onehot) ** 2)),
            "accuracy": float(np.mean(outputs.argmax(axis=1) == labels))}


register_model(ModelSpec(
    name="mnist_mlp",
    task="classification",
    description="flatten 784 → 256 ReLU → 64 ReLU → 10, MSE against the one-hot label, SGD 0.1 with momentum 0.9",
    arch=dict(image_size=(28, 28), hidden=(256, 64), activation="relu", init="default", num_classes=10),
    rules=dict(image_size=options.size_pair(1), hidden=options.int_tuple(1, min_len=0),
               activation=options.choice(*options.ACTIVATIONS), init=options.choice(*options.DENSE_INITS),
               num_classes=options.integer(2)),
    training=dict(epochs=10, batch_size=512, lr=0.1, optimizer="sgd", momentum=0.9, seed=0, eval_every=None),
    input_shape=lambda config: tuple(config["image_size"]),
    layout=layout,
    data=mnist_source(),
    parity=dict(n=16, batch_size=4, epochs=13, lr=0.01, optimizer="sgd", overrides=dict(hidden=(16, 8))),
    bench=dict(batch_size=512),
    flops=lambda config, seq_len=None: dense_flops(layout(config)),
    metrics=metrics,
    teaches="a multilayer perceptron with ReLU; MSE on one-hot targets (and how each framework averages it); "
            "SGD with momentum",
    origin="the PyTorch MNIST MLP tutorial (784 → 256 → 64 → 10); d2l ch. 5.1–5.2 (multilayer perceptrons)",
    order=70,
))
