"""Softmax regression on MNIST: d2l's first classifier, one dense layer from the 784 pixels to 10 logits."""
from triptych import options
from triptych.canonical import dense, dense_flops
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model


def layout(config):
    h, w = config["image_size"]
    out = {}
    dense(out, "output", h * w, config["num_classes"], "softmax regression", "; rows in row-major pixel order")
    return out


register_model(ModelSpec(
    name="softmax_reg",
    task="classification",
    description="flatten 784 → 10 (softmax regression), softmax cross-entropy, SGD 0.1",
    arch=dict(image_size=(28, 28), num_classes=10, init="default"),
    rules=dict(image_size=options.size_pair(1), num_classes=options.integer(2),
               init=options.choice(*options.DENSE_INITS)),
    training=dict(epochs=10, batch_size=256, lr=0.1, optimizer="sgd", seed=0, eval_every=None),
    input_shape=lambda config: tuple(config["image_size"]),
    layout=layout,
    data=mnist_source(),
    parity=dict(n=16, batch_size=4, epochs=13, lr=0.1, optimizer="sgd"),
    bench=dict(batch_size=256),
    flops=lambda config, seq_len=None: dense_flops(layout(config)),
    teaches="a linear classifier: logits, the softmax and cross-entropy, and their gradient softmax − one-hot",
    origin="d2l ch. 4.1–4.5 (softmax regression from scratch and concise)",
    order=60,
))
